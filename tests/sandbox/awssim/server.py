"""The simulator's HTTP server: routing AWS requests to service modules the
way AWS does (X-Amz-Target for JSON services, the signing name or Version
for Query services), SigV4 verification, faults, the call record, the
control API (/_sim/...) and the container credentials endpoint.

Service modules define `class Service` with `name`, `target_prefix` (JSON
services) or `version` and `xmlns` (Query services), optional
`signing_name` (default: name), `__init__(self, sim)`, `call(self, op,
params, req)` (a dict for JSON, an XML document string for Query), and
optionally `control(self, action, body)` and `reset(self)`.
"""

import importlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import sigv4
from .common import AwsError, alive, iso8601, new_uuid, query_error
from .identity import BASE, Identities

__all__ = ['AwsError', 'Sim', 'main']

MODULES = ['sts', 'secrets', 'logs', 'cloudwatch', 'ecr', 'ecs', 'serve',
           'traffic']
OPTIONAL = {'ecs', 'serve', 'traffic'}

# SigError kind -> (JSON code, JSON status, Query code, Query status)
SIG_CODES = {
    'missing': ('MissingAuthenticationTokenException', 400,
                'MissingAuthenticationToken', 403),
    'incomplete': ('IncompleteSignatureException', 400,
                   'IncompleteSignature', 403),
    'unknown-key': ('UnrecognizedClientException', 400,
                    'InvalidClientTokenId', 403),
    'expired-token': ('ExpiredTokenException', 400, 'ExpiredToken', 403),
    'signature': ('InvalidSignatureException', 400,
                  'SignatureDoesNotMatch', 403),
}

CORAL = {'UnknownOperationException', 'SerializationException'}

# Fault statuses -> (JSON code, Query code)
STATUS_CODES = {
    500: ('InternalFailure', 'InternalFailure'),
    502: ('BadGateway', 'BadGateway'),
    503: ('ServiceUnavailableException', 'ServiceUnavailable'),
    504: ('GatewayTimeout', 'GatewayTimeout'),
    429: ('TooManyRequestsException', 'Throttling'),
}


class Req:
    """What a service sees of a request."""

    def __init__(self, sim, request_id):
        self.sim = sim
        self.request_id = request_id
        self.account = None
        self.region = None
        self.identity = None    # identity.Identity of the caller (None if unsigned)
        self.service = None
        self.operation = None
        self.headers = {}       # lowercase name -> list of values
        self.body = b''


class Sim:
    def __init__(self, time_scale=60.0, registry=None, registry_password='',
                 registry_storage=None, web_identity_token='', log=None):
        self.time_scale = float(time_scale)
        self.lock = threading.RLock()
        self.start_epoch = time.time()
        self.start_mono = time.monotonic()
        self.offset = 0.0
        self.identities = Identities()
        self.registry = registry
        self.registry_password = registry_password
        self.registry_storage = registry_storage
        self.web_identity_token = web_identity_token
        self.container_token = None
        self.calls = []
        self.faults = {}
        self._log = log
        self._log_lock = threading.Lock()
        self.services = {}
        self.logs = None
        for mod in MODULES:
            try:
                m = importlib.import_module('.' + mod, __package__)
            except ModuleNotFoundError as e:
                if mod in OPTIONAL and e.name == '%s.%s' % (__package__, mod):
                    continue
                raise
            svc = m.Service(self)
            self.services[svc.name] = svc
            if svc.name == 'logs':
                self.logs = svc
        self.by_prefix = {s.target_prefix: s for s in self.services.values()
                          if getattr(s, 'target_prefix', None)}
        self.by_signing = {getattr(s, 'signing_name', s.name): s
                           for s in self.services.values()}
        self.by_version = {s.version: s for s in self.services.values()
                           if getattr(s, 'version', None)}

    def now(self):
        """Simulated epoch seconds: real time runs time_scale times faster,
        plus what /_sim/ecs/advance added."""
        return (self.start_epoch + (time.monotonic() - self.start_mono)
                * self.time_scale + self.offset)

    def advance(self, seconds):
        self.offset += float(seconds)

    def alarm_state(self, account, region, name):
        """A CloudWatch alarm's state; an unknown alarm counts as OK."""
        cw = self.services.get('monitoring')
        alarms = getattr(cw, 'alarms', None) or {}
        alarm = (alarms.get((account, region)) or {}).get(name) or {}
        return alarm.get('StateValue', 'OK')

    def new_request_id(self):
        return new_uuid()

    def log(self, line):
        if self._log is None:
            return
        with self._log_lock:
            self._log.write('%s %s\n' % (iso8601(time.time(), True), line))
            self._log.flush()

    def reset(self):
        self.calls = []
        self.faults = {}
        for svc in self.services.values():
            if hasattr(svc, 'reset'):
                svc.reset()

    # -- faults ------------------------------------------------------------

    def set_fault(self, body):
        if not body:
            self.faults = {}
            return
        op = body.get('operation', '*')
        every = int(body.get('throttle_every') or 0)
        burst = [int(s) for s in body.get('status_burst') or []]
        delay = int(body.get('delay_ms') or 0)
        if every < 0 or delay < 0 or any(s < 400 or s > 599 for s in burst):
            raise ValueError('throttle_every and delay_ms must be >= 0, '
                             'status_burst holds 4xx/5xx statuses')
        if not every and not burst and not delay:
            self.faults.pop(op, None)
            return
        self.faults[op] = {'operation': op, 'service': body.get('service'),
                           'throttle_every': every, 'status_burst': burst,
                           'delay_ms': delay, 'seen': 0}

    def fault_for(self, service, op):
        """(status or 'throttle' or None, delay seconds) for this call."""
        for key in (op, '*'):
            f = self.faults.get(key)
            if f is None or f['service'] not in (None, service):
                continue
            f['seen'] += 1
            delay = f['delay_ms'] / 1000.0
            if f['status_burst']:
                return f['status_burst'].pop(0), delay
            if f['throttle_every'] and f['seen'] % f['throttle_every'] == 0:
                return 'throttle', delay
            return None, delay
        return None, 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server_version = 'awssim'
    sys_version = ''

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            data = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    def _send(self, status, body, ctype, request_id, extra=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header('x-amzn-RequestId', request_id)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _any(self):
        sim = self.server.sim
        started = time.monotonic()
        body = self._read_body()
        rid = sim.new_request_id()
        url = urllib.parse.urlsplit(self.path)
        self.what = '-'
        self.account = '-'
        try:
            if url.path.startswith('/_sim/'):
                status = self._control(url.path[len('/_sim/'):], body, rid)
            elif url.path == '/_creds/container':
                status = self._container_creds(rid)
            else:
                status = self._aws(url, body, rid)
        except Exception as e:  # a bug in a module must not kill the server
            import traceback
            sim.log('rid=%s internal error: %s' % (rid, traceback.format_exc()
                                                   .replace('\n', ' | ')))
            status = 500
            self._send(500, json.dumps({'__type': 'InternalFailure',
                                        'message': 'awssim: %s' % e}),
                       'application/x-amz-json-1.1', rid)
        sim.log('rid=%s %s %s %s acct=%s status=%d %dms'
                % (rid, self.command, url.path, self.what, self.account,
                   status, (time.monotonic() - started) * 1000))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    # -- control API --------------------------------------------------------

    def _control(self, path, body, rid):
        sim = self.server.sim
        self.what = '_sim/' + path
        try:
            req = json.loads(body or b'{}')
            if not isinstance(req, dict):
                raise ValueError('the body must be a JSON object')
            with sim.lock:
                out = self._control_dispatch(path, req)
            status = 200
        except LookupError as e:
            status, out = 404, {'error': str(e.args[0] if e.args else e)}
        except AwsError as e:
            status, out = e.status, {'error': '%s: %s' % (e.code, e.message)}
        except (ValueError, TypeError) as e:
            status, out = 400, {'error': str(e)}
        self._send(status, json.dumps(out if out is not None else {}),
                   'application/json', rid)
        return status

    def _control_dispatch(self, path, req):
        sim = self.server.sim
        aliases = {'secret': ('secretsmanager', 'secret'),
                   'alarm': ('monitoring', 'alarm'),
                   'log': ('logs', 'log'),
                   'serve': ('serve', 'serve')}
        if path == 'reset':
            sim.reset()
            return {}
        if path == 'calls':
            # {"bodies": true}: each call with its request ("params":
            # the JSON body, or the Query form fields) and user agent.
            if req.get('bodies'):
                return {'calls': list(sim.calls)}
            return {'calls': [{k: v for k, v in c.items()
                               if k not in ('params', 'user_agent',
                                            'protocol')}
                              for c in sim.calls]}
        if path == 'fault':
            sim.set_fault(req)
            return {'faults': [{k: v for k, v in f.items() if k != 'seen'}
                               for f in sim.faults.values()]}
        if path == 'container-token':
            sim.container_token = req.get('token') or None
            return {}
        if path == 'now':
            return {'now': sim.now(), 'time_scale': sim.time_scale}
        if path == 'ecs/advance' and 'ecs' not in sim.services:
            sim.advance(req.get('seconds', 0))
            return {'now': sim.now()}
        if path in aliases:
            name, action = aliases[path]
        else:
            name, _, action = path.partition('/')
        svc = sim.services.get(name)
        if svc is None or not action or not hasattr(svc, 'control'):
            raise LookupError('no control path /_sim/%s' % path)
        return svc.control(action, req)

    # -- container credentials ----------------------------------------------

    def _container_creds(self, rid):
        sim = self.server.sim
        self.what = 'container-credentials'
        auth = self.headers.get('Authorization')
        if sim.container_token is None or auth != sim.container_token:
            self._send(403, json.dumps({
                'code': 'AccessDenied',
                'message': 'Authorization token is missing or invalid'}),
                'application/json', rid)
            return 403
        with sim.lock:
            ident = sim.identities.mint(BASE.account, BASE.arn, BASE.user_id,
                                        6 * 3600)
        self.account = ident.account
        self._send(200, json.dumps({
            'AccessKeyId': ident.key_id, 'SecretAccessKey': ident.secret,
            'Token': ident.token, 'Expiration': iso8601(ident.expires)}),
            'application/json', rid)
        return 200

    # -- AWS APIs -------------------------------------------------------------

    def _aws(self, url, body, rid):
        sim = self.server.sim
        headers = {}
        for k, v in self.headers.items():
            headers.setdefault(k.lower(), []).append(v)
        req = Req(sim, rid)
        req.headers = headers
        req.body = body
        target = headers.get('x-amz-target', [None])[0]
        scope = sigv4.scope_of(headers)

        if target:
            ctype = headers.get('content-type', [''])[0].strip()
            if not ctype.startswith('application/x-amz-json-1.0'):
                ctype = 'application/x-amz-json-1.1'
            prefix, _, op = target.rpartition('.')
            svc = sim.by_prefix.get(prefix)
            query = False
            params = None
        else:
            ctype = 'text/xml'
            query = True
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if self.command == 'POST':
                params.update(urllib.parse.parse_qsl(body.decode('utf-8', 'replace'),
                                                     keep_blank_values=True))
            op = params.get('Action', '')
            svc = None
            if scope is not None:
                svc = sim.by_signing.get(scope[3])
            if svc is None:
                svc = sim.by_version.get(params.get('Version'))
            if svc is None and op == 'AssumeRoleWithWebIdentity':
                svc = sim.services.get('sts')
        self.what = '%s.%s' % (svc.name if svc else '?', op or '?')
        # What the caller sent, as sent, for /_sim/calls {"bodies": true}:
        # tests check every request against the AWS API models.
        if query:
            recorded = {k: v for k, v in params.items()
                        if k not in ('Action', 'Version')}
        else:
            try:
                recorded = json.loads(body or b'{}')
            except ValueError:
                recorded = body.decode('utf-8', 'replace')
        xmlns = getattr(svc, 'xmlns', 'https://sts.amazonaws.com/doc/2011-06-15/')

        def answer(status, result, account):
            if isinstance(result, AwsError):
                if query:
                    payload = query_error(xmlns, result.code, result.message,
                                          result.status, rid)
                else:
                    # AWS's generic front end names its own errors with a
                    # namespace prefix, which clients must strip.
                    code = result.code
                    if code in CORAL:
                        code = 'com.amazon.coral.service#' + code
                    payload = json.dumps({'__type': code,
                                          'message': result.message})
                status = result.status
            elif query:
                payload = result
            else:
                payload = json.dumps(result if result is not None else {})
            # Recorded before the answer leaves, so a client that reads
            # /_sim/calls right after its call always finds it.
            sim.calls.append({'service': svc.name if svc else None,
                              'operation': op, 'status': status,
                              'account': account, 'params': recorded,
                              'protocol': 'query' if query else 'json',
                              'user_agent': headers.get('user-agent',
                                                        [''])[0]})
            self._send(status, payload, ctype, rid)
            return status

        if svc is None:
            if query:
                return answer(400, AwsError('InvalidAction', 'Could not find '
                              'operation %s for version %s'
                              % (op, params.get('Version'))), None)
            return answer(400, AwsError('UnknownOperationException', ''), None)

        # Authentication (AssumeRoleWithWebIdentity is unsigned in AWS).
        unsigned_ok = svc.name == 'sts' and op == 'AssumeRoleWithWebIdentity'
        if unsigned_ok and 'authorization' not in headers:
            req.region = 'us-east-1'
        else:
            try:
                ident, region, service = sigv4.verify(
                    self.command, url.path, url.query, headers, body,
                    sim.identities.lookup)
            except sigv4.SigError as e:
                jcode, jstatus, qcode, qstatus = SIG_CODES[e.kind]
                if query:
                    return answer(0, AwsError(qcode, e.message, qstatus), None)
                return answer(0, AwsError(jcode, e.message, jstatus), None)
            signing = getattr(svc, 'signing_name', svc.name)
            if service != signing:
                code = 'SignatureDoesNotMatch' if query else 'InvalidSignatureException'
                return answer(0, AwsError(code, "Credential should be scoped to "
                                          "correct service: '%s'. " % signing,
                                          403 if query else 400), ident.account)
            req.identity = ident
            req.account = ident.account
            req.region = region
            self.account = ident.account
        req.service = svc.name
        req.operation = op

        with sim.lock:
            fault, delay = sim.fault_for(svc.name, op)
        if delay:
            time.sleep(delay)
        if fault == 'throttle':
            return answer(0, AwsError('Throttling' if query else 'ThrottlingException',
                                      'Rate exceeded', 400), req.account)
        if fault is not None:
            jcode, qcode = STATUS_CODES.get(fault, ('ServiceError', 'ServiceError'))
            return answer(0, AwsError(qcode if query else jcode,
                                      'awssim: injected HTTP %d' % fault, fault),
                          req.account)

        if not query:
            try:
                params = json.loads(body or b'{}')
                if not isinstance(params, dict):
                    raise ValueError
            except ValueError:
                return answer(0, AwsError('SerializationException',
                                          'Start of structure or map found where'
                                          ' not expected.'), req.account)
        try:
            with sim.lock:
                result = svc.call(op, params, req)
        except AwsError as e:
            result = e
        return answer(200, result, req.account)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def watchdog(server, parent_pid, deadline, sim):
    while True:
        time.sleep(1)
        why = None
        if parent_pid and not alive(parent_pid):
            why = 'parent process %d is gone' % parent_pid
        elif time.monotonic() > deadline:
            why = 'max lifetime reached'
        if why:
            sim.log('stopping: %s' % why)
            server.shutdown()
            return


def main(argv=None):
    import argparse
    import signal
    p = argparse.ArgumentParser(prog='awssim', description='AWS API simulator')
    p.add_argument('--dir', help='writes DIR/awssim.port once listening')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--time-scale', type=float, default=60.0)
    p.add_argument('--parent-pid', type=int, default=0)
    p.add_argument('--max-lifetime', type=float, default=1800)
    p.add_argument('--registry', help='host:port of the docker registry')
    p.add_argument('--registry-storage', help="the registry's storage root")
    p.add_argument('--log', help='log file (default DIR/awssim.log or stderr)')
    a = p.parse_args(argv)

    if a.log:
        logf = open(a.log, 'a')
    elif a.dir:
        logf = open(os.path.join(a.dir, 'awssim.log'), 'a')
    else:
        logf = sys.stderr
    sim = Sim(a.time_scale, a.registry,
              os.environ.get('AWSSIM_REGISTRY_PASSWORD', ''),
              a.registry_storage,
              os.environ.get('AWSSIM_WEB_IDENTITY_TOKEN', ''), logf)
    server = Server(('127.0.0.1', a.port), Handler)
    server.sim = sim
    port = server.server_address[1]
    sim.log('listening on 127.0.0.1:%d services=%s time_scale=%g pid=%d'
            % (port, ','.join(sorted(sim.services)), sim.time_scale, os.getpid()))
    traffic = sim.services.get('traffic')
    if traffic is not None and 'ecs' in sim.services:
        # the simulated load balancer's listeners (traffic.py), written
        # before awssim.port: the sandbox reads them once that appears
        ports = traffic.start(a.parent_pid, a.max_lifetime)
        sim.log('listeners: production 127.0.0.1:%d test 127.0.0.1:%d'
                % (ports['production'], ports['test']))
        if a.dir:
            tmp = os.path.join(a.dir, 'awssim.listeners.tmp')
            with open(tmp, 'w') as f:
                f.write('%d %d\n' % (ports['production'], ports['test']))
            os.rename(tmp, os.path.join(a.dir, 'awssim.listeners'))
    if a.dir:
        tmp = os.path.join(a.dir, 'awssim.port.tmp')
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.rename(tmp, os.path.join(a.dir, 'awssim.port'))

    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=watchdog, daemon=True,
                     args=(server, a.parent_pid,
                           time.monotonic() + a.max_lifetime, sim)).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        sim.log('stopping: signal')
    finally:
        server.server_close()
    return 0
