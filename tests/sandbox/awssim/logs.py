"""CloudWatch Logs (JSON 1.1, Logs_20140328.*): GetLogEvents,
FilterLogEvents, DescribeLogGroups, DescribeLogStreams, CreateLogGroup,
CreateLogStream, PutLogEvents.  Other modules (ecs) append events with
sim.logs.append(account, region, group, stream, message, timestamp_ms).

filterPattern: whitespace-separated terms (or "quoted phrases") that must
all occur; ?term alternatives (any must occur); -term exclusions.  JSON and
space-delimited patterns ({...}, [...]) are refused, not guessed."""

import itertools
import shlex

from .common import AwsError

GROUP_MISSING = 'The specified log group does not exist.'
STREAM_MISSING = 'The specified log stream does not exist.'


def _matcher(pattern):
    pattern = (pattern or '').strip()
    if not pattern or pattern == '""':
        return lambda m: True
    if pattern[0] in '{[':
        raise AwsError('InvalidParameterException', 'awssim: JSON and '
                       'space-delimited filter patterns are not simulated')
    try:
        terms = shlex.split(pattern)
    except ValueError:
        raise AwsError('InvalidParameterException', 'Invalid filter pattern')
    need = [t for t in terms if t[:1] not in '?-']
    anyof = [t[1:] for t in terms if t.startswith('?')]
    never = [t[1:] for t in terms if t.startswith('-')]
    return lambda m: (all(t in m for t in need)
                      and (not anyof or any(t in m for t in anyof))
                      and not any(t in m for t in never))


class Service:
    name = 'logs'
    target_prefix = 'Logs_20140328'

    def __init__(self, sim):
        self.sim = sim
        self.ids = itertools.count(1)
        self.reset()

    def reset(self):
        self.groups = {}    # (account, region) -> group -> {created, streams}

    # -- for other modules ---------------------------------------------------

    def _group(self, account, region, group, create):
        groups = self.groups.setdefault((account, region), {})
        g = groups.get(group)
        if g is None and create:
            g = groups[group] = {'created': int(self.sim.now() * 1000),
                                 'streams': {}}
        return g

    def _stream(self, g, stream, create):
        s = g['streams'].get(stream)
        if s is None and create:
            s = g['streams'][stream] = {'created': int(self.sim.now() * 1000),
                                        'events': []}
        return s

    def append(self, account, region, group, stream, message, timestamp_ms=None):
        now = int(self.sim.now() * 1000)
        ts = now if timestamp_ms is None else int(timestamp_ms)
        s = self._stream(self._group(account, region, group, True), stream, True)
        ev = {'timestamp': ts, 'message': message, 'ingestionTime': now,
              'eventId': '%056d' % next(self.ids)}
        events = s['events']
        i = len(events)
        while i > 0 and events[i - 1]['timestamp'] > ts:
            i -= 1
        events.insert(i, ev)
        return ev

    def control(self, action, body):
        if action != 'log':
            raise LookupError('no control path /_sim/logs/%s' % action)
        for k in ('group', 'stream', 'message'):
            if not isinstance(body.get(k), str):
                raise ValueError('/_sim/log needs "group", "stream", "message"')
        ev = self.append(str(body.get('account') or '111122223333'),
                         body.get('region') or 'ap-south-1', body['group'],
                         body['stream'], body['message'], body.get('timestamp'))
        return {'eventId': ev['eventId'], 'timestamp': ev['timestamp']}

    # -- API -------------------------------------------------------------------

    def _need_group(self, params, req):
        name = params.get('logGroupName') or params.get('logGroupIdentifier')
        if not name:
            raise AwsError('InvalidParameterException',
                           'Either logGroupName or logGroupIdentifier should '
                           'be provided')
        name = name.split(':log-group:')[-1].rstrip(':*') \
            if name.startswith('arn:') else name
        g = self._group(req.account, req.region, name, False)
        if g is None:
            raise AwsError('ResourceNotFoundException', GROUP_MISSING)
        return name, g

    @staticmethod
    def _limit(params, default, top):
        limit = params.get('limit', default)
        if not isinstance(limit, int) or limit < 1 or limit > top:
            raise AwsError('InvalidParameterException', "1 validation error "
                           "detected: Value '%s' at 'limit' failed to satisfy "
                           "constraint: Member must have value less than or "
                           "equal to %d" % (limit, top))
        return limit

    def call(self, op, params, req):
        fn = getattr(self, 'op_' + op, None)
        if fn is None:
            raise AwsError('UnknownOperationException', '')
        return fn(params, req)

    def op_GetLogEvents(self, params, req):
        _, g = self._need_group(params, req)
        s = g['streams'].get(params.get('logStreamName') or '')
        if s is None:
            raise AwsError('ResourceNotFoundException', STREAM_MISSING)
        limit = self._limit(params, 10000, 10000)
        lo, hi = params.get('startTime'), params.get('endTime')
        events = [e for e in s['events']
                  if (lo is None or e['timestamp'] >= lo)
                  and (hi is None or e['timestamp'] < hi)]
        n = len(events)
        token = params.get('nextToken')
        if token:
            try:
                pos = int(token[2:])
            except ValueError:
                raise AwsError('InvalidParameterException',
                               'The specified nextToken is invalid.')
            if token.startswith('f/'):
                start, end = min(pos, n), min(pos + limit, n)
            else:
                start, end = max(pos - limit, 0), min(pos, n)
        elif params.get('startFromHead'):
            start, end = 0, min(limit, n)
        else:
            start, end = max(n - limit, 0), n
        return {'events': [{k: e[k] for k in ('timestamp', 'message',
                                              'ingestionTime')}
                           for e in events[start:end]],
                'nextForwardToken': 'f/%056d' % end,
                'nextBackwardToken': 'b/%056d' % start}

    def op_FilterLogEvents(self, params, req):
        _, g = self._need_group(params, req)
        names = params.get('logStreamNames')
        prefix = params.get('logStreamNamePrefix')
        if names and prefix:
            raise AwsError('InvalidParameterException', 'You cannot specify '
                           'both LogStreamNames and LogStreamNamePrefix.')
        if names:
            missing = [n for n in names if n not in g['streams']]
            if missing:
                raise AwsError('ResourceNotFoundException', STREAM_MISSING)
        else:
            names = sorted(n for n in g['streams']
                           if not prefix or n.startswith(prefix))
        match = _matcher(params.get('filterPattern'))
        limit = self._limit(params, 10000, 10000)
        lo, hi = params.get('startTime'), params.get('endTime')
        found = []
        for name in names:
            for e in g['streams'][name]['events']:
                if (lo is None or e['timestamp'] >= lo) and \
                        (hi is None or e['timestamp'] <= hi) and \
                        match(e['message']):
                    found.append(dict(e, logStreamName=name))
        found.sort(key=lambda e: (e['timestamp'], e['eventId']))
        start = 0
        if params.get('nextToken'):
            try:
                start = int(params['nextToken'])
            except ValueError:
                raise AwsError('InvalidParameterException',
                               'The specified nextToken is invalid.')
        page = found[start:start + limit]
        out = {'events': [{k: e[k] for k in ('logStreamName', 'timestamp',
                                             'message', 'ingestionTime',
                                             'eventId')} for e in page],
               'searchedLogStreams': [{'logStreamName': n,
                                       'searchedCompletely': True}
                                      for n in names]}
        if start + limit < len(found):
            out['nextToken'] = str(start + limit)
        return out

    def op_DescribeLogGroups(self, params, req):
        prefix = params.get('logGroupNamePrefix') or ''
        groups = self.groups.get((req.account, req.region), {})
        return {'logGroups': [{
            'logGroupName': name, 'creationTime': g['created'],
            'arn': 'arn:aws:logs:%s:%s:log-group:%s:*' % (req.region,
                                                          req.account, name),
            'storedBytes': sum(len(e['message']) for s in g['streams'].values()
                               for e in s['events'])}
            for name, g in sorted(groups.items()) if name.startswith(prefix)]}

    def op_DescribeLogStreams(self, params, req):
        name, g = self._need_group(params, req)
        prefix = params.get('logStreamNamePrefix') or ''
        streams = []
        for sname, s in g['streams'].items():
            if not sname.startswith(prefix):
                continue
            d = {'logStreamName': sname, 'creationTime': s['created'],
                 'arn': 'arn:aws:logs:%s:%s:log-group:%s:log-stream:%s'
                        % (req.region, req.account, name, sname),
                 'storedBytes': 0}
            if s['events']:
                d.update(firstEventTimestamp=s['events'][0]['timestamp'],
                         lastEventTimestamp=s['events'][-1]['timestamp'],
                         lastIngestionTime=max(e['ingestionTime']
                                               for e in s['events']))
            streams.append(d)
        if params.get('orderBy') == 'LastEventTime':
            streams.sort(key=lambda d: d.get('lastEventTimestamp', 0))
        else:
            streams.sort(key=lambda d: d['logStreamName'])
        if params.get('descending'):
            streams.reverse()
        limit = self._limit(params, 50, 50)
        return {'logStreams': streams[:limit]}

    def op_CreateLogGroup(self, params, req):
        name = params.get('logGroupName')
        if not name:
            raise AwsError('InvalidParameterException',
                           'logGroupName must be provided')
        if self._group(req.account, req.region, name, False) is not None:
            raise AwsError('ResourceAlreadyExistsException',
                           'The specified log group already exists')
        self._group(req.account, req.region, name, True)
        return {}

    def op_CreateLogStream(self, params, req):
        _, g = self._need_group(params, req)
        name = params.get('logStreamName')
        if not name:
            raise AwsError('InvalidParameterException',
                           'logStreamName must be provided')
        if name in g['streams']:
            raise AwsError('ResourceAlreadyExistsException',
                           'The specified log stream already exists')
        self._stream(g, name, True)
        return {}

    def op_PutLogEvents(self, params, req):
        gname, g = self._need_group(params, req)
        sname = params.get('logStreamName') or ''
        if sname not in g['streams']:
            raise AwsError('ResourceNotFoundException', STREAM_MISSING)
        for e in params.get('logEvents') or []:
            self.append(req.account, req.region, gname, sname,
                        e.get('message', ''), e.get('timestamp'))
        return {'nextSequenceToken': '%056d' % next(self.ids)}
