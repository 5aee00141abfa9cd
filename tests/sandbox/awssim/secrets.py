"""Secrets Manager (JSON 1.1, secretsmanager.*): GetSecretValue and
DescribeSecret of secrets created through /_sim/secret."""

import json

from .common import AwsError, new_uuid, random_id

NOT_FOUND = "Secrets Manager can't find the specified secret."


class Service:
    name = 'secretsmanager'
    target_prefix = 'secretsmanager'

    def __init__(self, sim):
        self.sim = sim
        self.reset()

    def reset(self):
        self.secrets = {}       # (account, region) -> name -> secret

    def control(self, action, body):
        if action != 'secret':
            raise LookupError('no control path /_sim/secretsmanager/%s' % action)
        account = str(body.get('account') or '111122223333')
        region = body.get('region') or 'ap-south-1'
        name = body.get('name')
        value = body.get('value')
        if not name or value is None:
            raise ValueError('/_sim/secret needs "name" and "value"')
        if not isinstance(value, str):
            value = json.dumps(value)
        store = self.secrets.setdefault((account, region), {})
        now = self.sim.now()
        s = store.get(name)
        if s is None:
            s = store[name] = {
                'ARN': 'arn:aws:secretsmanager:%s:%s:secret:%s-%s' % (
                    region, account, name, random_id(6,
                        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')),
                'Name': name, 'Created': now}
        s.update({'VersionId': new_uuid(), 'SecretString': value,
                  'VersionCreated': now})
        return {'ARN': s['ARN'], 'Name': name, 'VersionId': s['VersionId']}

    def _find(self, params, req):
        sid = params.get('SecretId')
        if not sid:
            raise AwsError('InvalidParameterException',
                           'You must provide a value for SecretId.')
        store = self.secrets.get((req.account, req.region), {})
        if sid.startswith('arn:'):
            parts = sid.split(':')
            if len(parts) >= 7 and parts[4] != req.account:
                raise AwsError('AccessDeniedException', 'User: %s is not '
                               'authorized to perform: secretsmanager:%s on '
                               'resource: %s because no resource-based policy'
                               ' allows the secretsmanager:%s action'
                               % (req.identity.arn, req.operation, sid,
                                  req.operation))
            for s in store.values():
                # A full ARN, or a partial one without the 6-character suffix.
                if sid == s['ARN'] or sid == s['ARN'][:-7]:
                    return s
        elif sid in store:
            return store[sid]
        raise AwsError('ResourceNotFoundException', NOT_FOUND)

    def call(self, op, params, req):
        if op == 'GetSecretValue':
            s = self._find(params, req)
            vid = params.get('VersionId')
            stage = params.get('VersionStage')
            if (vid and vid != s['VersionId']) or (stage and stage != 'AWSCURRENT'):
                raise AwsError('ResourceNotFoundException', NOT_FOUND)
            return {'ARN': s['ARN'], 'Name': s['Name'],
                    'VersionId': s['VersionId'],
                    'SecretString': s['SecretString'],
                    'VersionStages': ['AWSCURRENT'],
                    'CreatedDate': s['VersionCreated']}
        if op == 'DescribeSecret':
            s = self._find(params, req)
            return {'ARN': s['ARN'], 'Name': s['Name'],
                    'LastChangedDate': s['VersionCreated'],
                    'VersionIdsToStages': {s['VersionId']: ['AWSCURRENT']},
                    'CreatedDate': s['Created']}
        raise AwsError('UnknownOperationException', '')
