"""STS (Query protocol, Version 2011-06-15): GetCallerIdentity, AssumeRole,
AssumeRoleWithWebIdentity.

Trust policy of the two gantry-deploy roles: the base identity may assume
either; any identity of the role's own account may assume it; nobody else.
An ExternalId is optional, but when given must be "gantry-<env>"."""

import base64
import json
import re

from .common import AwsError, iso8601, query_response
from .identity import BASE, ROLES

XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'
SESSION_RE = re.compile(r'[\w+=,.@-]{2,64}')


def _validation(msg):
    return AwsError('ValidationError', msg, 400)


def _jwt_claims(token):
    try:
        payload = token.split('.')[1]
        payload += '=' * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError):
        return {}


class Service:
    name = 'sts'
    version = '2011-06-15'
    xmlns = XMLNS

    def __init__(self, sim):
        self.sim = sim

    def call(self, op, params, req):
        fn = {'GetCallerIdentity': self.get_caller_identity,
              'AssumeRole': self.assume_role,
              'AssumeRoleWithWebIdentity': self.assume_role_with_web_identity,
              }.get(op)
        if fn is None:
            raise AwsError('InvalidAction', 'Could not find operation %s for '
                           'version %s' % (op, self.version))
        return query_response(op, XMLNS, fn(params, req), req.request_id)

    def get_caller_identity(self, params, req):
        i = req.identity
        return {'Arn': i.arn, 'UserId': i.user_id, 'Account': i.account}

    def _session_args(self, params, req, chained):
        role = params.get('RoleArn')
        if not role:
            raise _validation("1 validation error detected: Value null at "
                              "'roleArn' failed to satisfy constraint: Member "
                              "must not be null")
        session = params.get('RoleSessionName')
        if not session:
            raise _validation("1 validation error detected: Value null at "
                              "'roleSessionName' failed to satisfy constraint:"
                              " Member must not be null")
        if not SESSION_RE.fullmatch(session):
            raise _validation("1 validation error detected: Value '%s' at "
                              "'roleSessionName' failed to satisfy constraint:"
                              " Member must satisfy regular expression pattern:"
                              " [\\w+=,.@-]*" % session)
        try:
            duration = int(params.get('DurationSeconds') or 3600)
        except ValueError:
            raise _validation('DurationSeconds must be a number')
        if duration < 900 or duration > 43200:
            raise _validation("1 validation error detected: Value '%d' at "
                              "'durationSeconds' failed to satisfy constraint:"
                              " Member must have value %s" % (
                                  duration, 'greater than or equal to 900'
                                  if duration < 900 else
                                  'less than or equal to 43200'))
        if chained and duration > 3600:
            raise _validation('The requested DurationSeconds exceeds the 1 '
                              'hour session limit for roles assumed by role '
                              'chaining.')
        return role, session, duration

    def _result(self, ident):
        return {
            'AssumedRoleUser': {'AssumedRoleId': ident.user_id,
                                'Arn': ident.arn},
            'Credentials': {'AccessKeyId': ident.key_id,
                            'SecretAccessKey': ident.secret,
                            'SessionToken': ident.token,
                            'Expiration': iso8601(ident.expires)},
        }

    def assume_role(self, params, req):
        caller = req.identity
        role, session, duration = self._session_args(
            params, req, chained=caller.role is not None)
        env = ROLES.get(role)
        trusted = env is not None and (
            caller.arn == BASE.arn or caller.account == role.split(':')[4])
        ext = params.get('ExternalId')
        if not trusted or (ext is not None and ext != 'gantry-' + env):
            raise AwsError('AccessDenied', 'User: %s is not authorized to '
                           'perform: sts:AssumeRole on resource: %s'
                           % (caller.arn, role), 403)
        ident = self.sim.identities.session(role, session, duration)
        return self._result(ident)

    def assume_role_with_web_identity(self, params, req):
        token = params.get('WebIdentityToken')
        role, session, duration = self._session_args(params, req, False)
        if not token or not self.sim.web_identity_token \
                or token != self.sim.web_identity_token:
            raise AwsError('InvalidIdentityToken', 'The web identity token '
                           'that was passed could not be validated by AWS. Get'
                           ' a new identity token from the identity provider '
                           'and then retry the request.', 400)
        if role not in ROLES:
            raise AwsError('AccessDenied', 'Not authorized to perform '
                           'sts:AssumeRoleWithWebIdentity', 403)
        ident = self.sim.identities.session(role, session, duration)
        req.account = ident.account
        claims = _jwt_claims(token)
        issuer = str(claims.get('iss', 'https://token.actions.githubusercontent.com'))
        out = {'Credentials': None, 'SubjectFromWebIdentityToken':
               str(claims.get('sub', 'sandbox')), 'AssumedRoleUser': None}
        out.update(self._result(ident))
        out['Provider'] = issuer.split('://', 1)[-1]
        out['Audience'] = str(claims.get('aud', 'sts.amazonaws.com'))
        return out
