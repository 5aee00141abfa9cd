"""CloudWatch alarms (Query protocol, Version 2010-08-01, signing name
monitoring): DescribeAlarms and SetAlarmState of alarms created through
/_sim/alarm."""

from .common import AwsError, iso8601, query_list, query_response

XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/'
STATES = ('OK', 'ALARM', 'INSUFFICIENT_DATA')


class Service:
    name = 'monitoring'
    signing_name = 'monitoring'
    version = '2010-08-01'
    xmlns = XMLNS

    def __init__(self, sim):
        self.sim = sim
        self.reset()

    def reset(self):
        self.alarms = {}    # (account, region) -> name -> alarm

    def _set_state(self, alarm, state, reason):
        if state not in STATES:
            raise AwsError('ValidationError', "1 validation error detected: "
                           "Value '%s' at 'stateValue' failed to satisfy "
                           "constraint: Member must satisfy enum value set: "
                           "[INSUFFICIENT_DATA, ALARM, OK]" % state)
        if alarm.get('StateValue') != state:
            alarm['StateUpdatedTimestamp'] = self.sim.now()
        alarm['StateValue'] = state
        alarm['StateReason'] = reason

    def control(self, action, body):
        if action != 'alarm':
            raise LookupError('no control path /_sim/monitoring/%s' % action)
        account = str(body.get('account') or '111122223333')
        region = body.get('region') or 'ap-south-1'
        name = body.get('name')
        state = body.get('state') or 'OK'
        if not name:
            raise ValueError('/_sim/alarm needs "name"')
        alarms = self.alarms.setdefault((account, region), {})
        a = alarms.get(name)
        now = self.sim.now()
        if a is None:
            a = alarms[name] = {
                'AlarmName': name,
                'AlarmArn': 'arn:aws:cloudwatch:%s:%s:alarm:%s' % (
                    region, account, name),
                'AlarmConfigurationUpdatedTimestamp': now,
                'ActionsEnabled': True,
                'MetricName': body.get('metric') or 'HTTPCode_Target_5XX_Count',
                'Namespace': body.get('namespace') or 'AWS/ApplicationELB',
                'Threshold': float(body.get('threshold', 1.0)),
            }
        try:
            self._set_state(a, state, body.get('reason') or (
                'Threshold Crossed: 1 datapoint [%s] was %s the threshold (%s).'
                % ('5.0' if state == 'ALARM' else '0.0',
                   'greater than or equal to' if state == 'ALARM'
                   else 'not greater than or equal to', a['Threshold'])))
        except AwsError as e:
            raise ValueError(e.message)
        return {'AlarmArn': a['AlarmArn'], 'StateValue': a['StateValue']}

    def _member(self, a):
        return {
            'AlarmName': a['AlarmName'],
            'AlarmArn': a['AlarmArn'],
            'AlarmConfigurationUpdatedTimestamp':
                iso8601(a['AlarmConfigurationUpdatedTimestamp'], True),
            'ActionsEnabled': a['ActionsEnabled'],
            'OKActions': [], 'AlarmActions': [], 'InsufficientDataActions': [],
            'StateValue': a['StateValue'],
            'StateReason': a['StateReason'],
            'StateUpdatedTimestamp': iso8601(a['StateUpdatedTimestamp'], True),
            'MetricName': a['MetricName'],
            'Namespace': a['Namespace'],
            'Statistic': 'Sum',
            'Dimensions': [],
            'Period': 60,
            'EvaluationPeriods': 1,
            'DatapointsToAlarm': 1,
            'Threshold': a['Threshold'],
            'ComparisonOperator': 'GreaterThanOrEqualToThreshold',
            'TreatMissingData': 'notBreaching',
            'StateTransitionedTimestamp': iso8601(a['StateUpdatedTimestamp'], True),
        }

    def call(self, op, params, req):
        alarms = self.alarms.get((req.account, req.region), {})
        if op == 'DescribeAlarms':
            names = query_list(params, 'AlarmNames')
            prefix = params.get('AlarmNamePrefix')
            state = params.get('StateValue')
            if names and prefix:
                raise AwsError('InvalidParameterCombination', 'AlarmNames and '
                               'AlarmNamePrefix cannot be specified together.')
            if state and state not in STATES:
                raise AwsError('ValidationError', "1 validation error detected:"
                               " Value '%s' at 'stateValue' failed to satisfy "
                               "constraint: Member must satisfy enum value set:"
                               " [INSUFFICIENT_DATA, ALARM, OK]" % state)
            types = query_list(params, 'AlarmTypes')
            found = [a for n, a in sorted(alarms.items())
                     if (not names or n in names)
                     and (not prefix or n.startswith(prefix))
                     and (not state or a['StateValue'] == state)]
            if types and 'MetricAlarm' not in types:
                found = []
            result = {'MetricAlarms': [self._member(a) for a in found],
                      'CompositeAlarms': []}
        elif op == 'SetAlarmState':
            name = params.get('AlarmName')
            if name not in alarms:
                raise AwsError('ResourceNotFound', 'Alarm %s not found' % name,
                               404)
            self._set_state(alarms[name], params.get('StateValue'),
                            params.get('StateReason') or '')
            result = None
        else:
            raise AwsError('InvalidAction', 'Could not find operation %s for '
                           'version %s' % (op, self.version))
        return query_response(op, XMLNS, result, req.request_id)
