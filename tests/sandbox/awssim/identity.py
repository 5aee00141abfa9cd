"""The sandbox's identities: three fixed access keys and the temporary
credentials STS (and the container credentials endpoint) hand out."""

import base64
import hashlib
import os
import time

from .common import random_id

BASE_ACCOUNT = '111122223333'
STAGING_ACCOUNT = '127214192604'
PRODUCTION_ACCOUNT = '429032495558'

# Role ARN -> the environment it deploys to (ExternalId "gantry-<env>").
ROLES = {
    'arn:aws:iam::%s:role/gantry-deploy' % STAGING_ACCOUNT: 'staging',
    'arn:aws:iam::%s:role/gantry-deploy' % PRODUCTION_ACCOUNT: 'production',
}


def unique_id(prefix, arn):
    """A stable IAM unique id (AIDA... for users, AROA... for roles)."""
    return prefix + hashlib.sha1(arn.encode()).hexdigest().upper()[:17]


class Identity:
    def __init__(self, key_id, secret, account, arn, user_id, token=None,
                 expires=None, role=None):
        self.key_id = key_id
        self.secret = secret
        self.account = account
        self.arn = arn
        self.user_id = user_id
        self.token = token          # temporary credentials only
        self.expires = expires      # real epoch seconds, temporary only
        self.role = role            # the role ARN of an assumed-role session


def _user(key_id, secret, account, name):
    arn = 'arn:aws:iam::%s:user/%s' % (account, name)
    return Identity(key_id, secret, account, arn, unique_id('AIDA', arn))


FIXED = [
    _user('AKIASANDBOXBASE00001', 'sandbox/base/secret/key/0000000000000000',
          BASE_ACCOUNT, 'ci'),
    _user('AKIASANDBOXSTAGING01', 'sandbox/staging/secret/key/000000000000',
          STAGING_ACCOUNT, 'deployer'),
    _user('AKIASANDBOXPROD00001', 'sandbox/production/secret/key/0000000000',
          PRODUCTION_ACCOUNT, 'deployer'),
]
BASE = FIXED[0]


class Identities:
    """Key id -> Identity.  Temporary credentials survive /_sim/reset: they
    are what clients hold, not resources of an account."""

    def __init__(self):
        self.keys = {i.key_id: i for i in FIXED}

    def lookup(self, key_id):
        return self.keys.get(key_id)

    def mint(self, account, arn, user_id, duration, role=None):
        key_id = 'ASIA' + random_id(16)
        secret = base64.b64encode(os.urandom(30)).decode()
        token = base64.b64encode(b'sandbox-session:' + os.urandom(180)).decode()
        ident = Identity(key_id, secret, account, arn, user_id, token=token,
                         expires=time.time() + duration, role=role)
        self.keys[key_id] = ident
        return ident

    def session(self, role_arn, session_name, duration):
        """Temporary credentials of an assumed-role session."""
        account = role_arn.split(':')[4]
        role_name = role_arn.split('/')[-1]
        arn = 'arn:aws:sts::%s:assumed-role/%s/%s' % (account, role_name,
                                                       session_name)
        role_id = unique_id('AROA', role_arn)
        return self.mint(account, arn, '%s:%s' % (role_id, session_name),
                         duration, role=role_arn)
