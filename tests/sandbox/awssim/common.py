"""Pieces every service module shares: the error type, XML building for the
Query protocol, timestamps and identifiers."""

import ctypes
import datetime
import os
import random
import signal
import string
import uuid
from xml.sax.saxutils import escape


class AwsError(Exception):
    """An AWS error answer: the code AWS uses, its message, its HTTP status.
    The server renders it in the protocol of the service that raised it."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def iso8601(epoch, millis=False):
    """2024-05-01T12:00:00Z (or .000Z): the form AWS's XML uses."""
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    if millis:
        return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def new_uuid():
    return str(uuid.uuid4())


def random_id(n, alphabet=string.ascii_uppercase + string.digits):
    return ''.join(random.SystemRandom().choice(alphabet) for _ in range(n))


def xml_value(value):
    """Serialises dicts (elements in order), lists (<member> items),
    booleans (true/false) and scalars; None members are left out."""
    if isinstance(value, dict):
        return ''.join('<%s>%s</%s>' % (k, xml_value(v), k)
                       for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple)):
        return ''.join('<member>%s</member>' % xml_value(v) for v in value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return escape(str(value))


def query_response(action, xmlns, result, request_id):
    """<ActionResponse xmlns=...><ActionResult>...</ActionResult>
    <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata>
    </ActionResponse>; result None means the action has no result element."""
    body = ''
    if result is not None:
        body = '<%sResult>%s</%sResult>' % (action, xml_value(result), action)
    return ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s'
            '</RequestId></ResponseMetadata></%sResponse>\n'
            % (action, xmlns, body, request_id, action))


def query_error(xmlns, code, message, status, request_id):
    kind = 'Receiver' if status >= 500 else 'Sender'
    return ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
            '<Message>%s</Message></Error><RequestId>%s</RequestId>'
            '</ErrorResponse>\n'
            % (xmlns, kind, escape(code), escape(message), request_id))


def query_list(params, name):
    """The values of a Query list parameter (Name.member.1, Name.member.2,
    ...) in index order."""
    prefix = name + '.member.'
    items = []
    for k, v in params.items():
        if k.startswith(prefix) and k[len(prefix):].isdigit():
            items.append((int(k[len(prefix):]), v))
    return [v for _, v in sorted(items)]


PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn for children of the simulator: SIGTERM when it dies, so
    nothing outlives the sandbox even after a kill -9."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def essential_container(td):
    """The first essential container of a task definition, or {}."""
    for c in td.get("containerDefinitions") or []:
        if c.get("essential", True) is not False:
            return c
    return {}


def alive(pid):
    """Whether process pid runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
