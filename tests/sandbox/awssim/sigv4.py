"""AWS Signature Version 4 verification, as AWS does it for non-S3 services.

verify() returns (identity, region, service) or raises SigError whose kind
the server turns into the protocol's error code:
  missing     no Authorization header
  incomplete  a malformed Authorization header, or host / x-amz-date /
              x-amz-security-token not signed
  unknown-key the key id is unknown, or temporary credentials came without
              their (matching) session token
  expired-token temporary credentials past their expiration
  signature   the signature does not match, or the date is off by > 15 min
"""

import datetime
import hashlib
import hmac
import re
import time
import urllib.parse

ALGORITHM = 'AWS4-HMAC-SHA256'
MAX_SKEW = 15 * 60
MISMATCH = ('The request signature we calculated does not match the signature '
            'you provided. Check your AWS Secret Access Key and signing '
            'method. Consult the service documentation for details.')


class SigError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _quote(s):
    return urllib.parse.quote(s, safe='-_.~')


def canonical_query(raw_query):
    pairs = []
    for part in raw_query.split('&') if raw_query else []:
        if not part:
            continue
        k, _, v = part.partition('=')
        pairs.append((_quote(urllib.parse.unquote_plus(k)),
                      _quote(urllib.parse.unquote_plus(v))))
    return '&'.join('%s=%s' % kv for kv in sorted(pairs))


def canonical_uris(raw_path):
    """AWS encodes each path segment again (the path as sent is already
    encoded once); some clients sign the path as sent.  Both are tried."""
    path = raw_path or '/'
    again = urllib.parse.quote(path, safe='/-_.~')
    return [again] if again == path else [again, path]


def _trim(value):
    return ' '.join(value.strip().split())


def parse_authorization(value):
    if not value.startswith(ALGORITHM + ' '):
        raise SigError('incomplete', "Authorization header requires "
                       "'Credential', 'SignedHeaders' and 'Signature' "
                       "parameters with algorithm %s." % ALGORITHM)
    fields = {}
    for part in value[len(ALGORITHM) + 1:].split(','):
        k, sep, v = part.strip().partition('=')
        if sep:
            fields[k] = v
    missing = [k for k in ('Credential', 'SignedHeaders', 'Signature')
               if not fields.get(k)]
    if missing:
        raise SigError('incomplete', "Authorization header requires '%s' "
                       "parameter. Authorization=%s" % (missing[0], ALGORITHM))
    scope = fields['Credential'].split('/')
    if len(scope) != 5 or scope[4] != 'aws4_request':
        raise SigError('incomplete', "Credential should be scoped to a valid "
                       "region, not '%s'. " % '/'.join(scope[2:3]))
    return scope, fields['SignedHeaders'].split(';'), fields['Signature']


def scope_of(headers):
    """(key id, date, region, service) from the Authorization header, or
    None if the request is unsigned or the header unreadable."""
    value = headers.get('authorization')
    if not value:
        return None
    try:
        scope, _, _ = parse_authorization(value[0])
    except SigError:
        return None
    return tuple(scope[:4])


def signing_key(secret, date, region, service):
    k = ('AWS4' + secret).encode()
    for part in (date, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def verify(method, raw_path, raw_query, headers, body, lookup, now=None):
    """headers: lowercase name -> list of values, in arrival order."""
    value = headers.get('authorization')
    if not value:
        raise SigError('missing', 'Missing Authentication Token')
    scope, signed, signature = parse_authorization(value[0])
    key_id, date, region, service = scope[:4]
    for need in ('host', 'x-amz-date'):
        if need not in signed:
            raise SigError('incomplete', "'%s' must be a 'SignedHeader' in "
                           "the AWS Authorization." % need.title())
    if signed != sorted(signed) or any(h not in headers for h in signed):
        raise SigError('signature', MISMATCH)

    amzdate = headers['x-amz-date'][0].strip()
    if not re.fullmatch(r'\d{8}T\d{6}Z', amzdate):
        raise SigError('incomplete', "Date must be in ISO-8601 'basic format'."
                       " Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601"
                       % amzdate)
    if amzdate[:8] != date:
        raise SigError('signature', 'Date in Credential scope does not match '
                       'YYYYMMDD from ISO-8601 version of date from HTTP: '
                       "'%s' != '%s', from '%s'." % (date, amzdate[:8], amzdate))
    when = datetime.datetime.strptime(amzdate, '%Y%m%dT%H%M%SZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()
    now = time.time() if now is None else now
    fmt = lambda t: time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(t))
    if when < now - MAX_SKEW:
        raise SigError('signature', 'Signature expired: %s is now earlier than'
                       ' %s (%s - 15 min.)' % (amzdate, fmt(now - MAX_SKEW),
                                               fmt(now)))
    if when > now + MAX_SKEW:
        raise SigError('signature', 'Signature not yet current: %s is still '
                       'later than %s (%s + 15 min.)'
                       % (amzdate, fmt(now + MAX_SKEW), fmt(now)))

    ident = lookup(key_id)
    token = headers.get('x-amz-security-token', [None])[0]
    if ident is None or (ident.token is not None and token != ident.token):
        raise SigError('unknown-key',
                       'The security token included in the request is invalid.')
    if ident.token is not None and 'x-amz-security-token' not in signed:
        raise SigError('incomplete', "'X-Amz-Security-Token' must be a "
                       "'SignedHeader' in the AWS Authorization.")
    if ident.expires is not None and ident.expires < now:
        raise SigError('expired-token',
                       'The security token included in the request is expired')

    body_hash = hashlib.sha256(body).hexdigest()
    payload = headers.get('x-amz-content-sha256', [None])[0]
    if payload is None:
        payload = body_hash
    elif payload != body_hash and payload != 'UNSIGNED-PAYLOAD':
        raise SigError('signature', "The provided 'x-amz-content-sha256' "
                       'header does not match what was computed.')
    canon_headers = ''.join('%s:%s\n' % (h, ','.join(_trim(v) for v in headers[h]))
                            for h in signed)
    key = signing_key(ident.secret, date, region, service)
    for uri in canonical_uris(raw_path):
        creq = '\n'.join([method, uri, canonical_query(raw_query),
                          canon_headers, ';'.join(signed), payload])
        sts = '\n'.join([ALGORITHM, amzdate, '/'.join(scope[1:]),
                         hashlib.sha256(creq.encode()).hexdigest()])
        mine = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(mine, signature):
            return ident, region, service
    raise SigError('signature', MISMATCH)
