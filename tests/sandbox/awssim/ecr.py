"""ECR API (JSON 1.1, AmazonEC2ContainerRegistry_V20150921.*, signing name
ecr).  Repository metadata lives per (account, region) in the simulator;
images live in the one local docker registry (repository names map 1:1 to
registry paths), which DescribeImages, ListImages, BatchGetImage and
PutImage read and write over its v2 API with basic auth, so they report what
was really pushed."""

import base64
import hashlib
import http.client
import json
import os
import re
import time

from .common import AwsError

NAME_RE = re.compile(r'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*')
MANIFEST_TYPES = [
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v1+prettyjws',
]


def _image_id_text(image_id):
    return "{imageDigest:'%s', imageTag:'%s'}" % (
        image_id.get('imageDigest') or 'null', image_id.get('imageTag') or 'null')


class Service:
    name = 'ecr'
    target_prefix = 'AmazonEC2ContainerRegistry_V20150921'

    def __init__(self, sim):
        self.sim = sim
        self.seen = {}      # digest -> first time seen (when storage is unknown)
        self.reset()

    def reset(self):
        self.repos = {}     # (account, region) -> name -> repository

    # -- the registry -----------------------------------------------------------

    def _registry(self, method, path, body=None, headers=None):
        if not self.sim.registry:
            raise AwsError('ServerException', 'awssim: no registry (the '
                           'sandbox was started with --no-registry)', 500)
        host, _, port = self.sim.registry.rpartition(':')
        auth = base64.b64encode(('AWS:' + self.sim.registry_password)
                                .encode()).decode()
        h = {'Authorization': 'Basic ' + auth}
        h.update(headers or {})
        conn = http.client.HTTPConnection(host, int(port), timeout=15)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, r, data
        except OSError as e:
            raise AwsError('ServerException', 'awssim: registry unreachable: '
                           '%s' % e, 500)
        finally:
            conn.close()

    def _tags(self, name):
        status, _, data = self._registry('GET', '/v2/%s/tags/list' % name)
        if status == 404:
            return []
        if status != 200:
            raise AwsError('ServerException', 'awssim: registry answered %d '
                           'to a tags list' % status, 500)
        return json.loads(data).get('tags') or []

    def _manifest(self, name, ref):
        """(digest, media type, manifest text) or None."""
        status, r, data = self._registry(
            'GET', '/v2/%s/manifests/%s' % (name, ref),
            headers={'Accept': ', '.join(MANIFEST_TYPES)})
        if status == 404:
            return None
        if status != 200:
            raise AwsError('ServerException', 'awssim: registry answered %d '
                           'to a manifest GET' % status, 500)
        digest = r.getheader('Docker-Content-Digest') or \
            'sha256:' + hashlib.sha256(data).hexdigest()
        mtype = (r.getheader('Content-Type') or '').split(';')[0].strip()
        return digest, mtype, data.decode()

    def _untagged_digests(self, name):
        """Manifests pushed by digest only: the registry's API cannot list
        them, its storage can."""
        if not self.sim.registry_storage:
            return []
        d = os.path.join(self.sim.registry_storage, 'docker/registry/v2/'
                         'repositories', name, '_manifests/revisions/sha256')
        try:
            return ['sha256:' + h for h in sorted(os.listdir(d))]
        except OSError:
            return []

    def _pushed_at(self, name, digest):
        if self.sim.registry_storage and digest.startswith('sha256:'):
            link = os.path.join(self.sim.registry_storage,
                                'docker/registry/v2/repositories', name,
                                '_manifests/revisions/sha256', digest[7:], 'link')
            try:
                return os.stat(link).st_mtime
            except OSError:
                pass
        return self.seen.setdefault(digest, time.time())

    def _images(self, name):
        """digest -> {'tags': [...], 'type', 'manifest'} of the repository."""
        images = {}
        for tag in self._tags(name):
            m = self._manifest(name, tag)
            if m is None:
                continue
            img = images.setdefault(m[0], {'tags': [], 'type': m[1],
                                           'manifest': m[2]})
            img['tags'].append(tag)
        for digest in self._untagged_digests(name):
            if digest not in images:
                m = self._manifest(name, digest)
                if m is not None:
                    images[digest] = {'tags': [], 'type': m[1],
                                      'manifest': m[2]}
        return images

    # -- API ------------------------------------------------------------------

    def call(self, op, params, req):
        fn = getattr(self, 'op_' + op, None)
        if fn is None:
            raise AwsError('UnknownOperationException', '')
        return fn(params, req)

    def _account(self, params, req):
        return str(params.get('registryId') or req.account)

    def _repo(self, params, req):
        account = self._account(params, req)
        name = params.get('repositoryName') or ''
        r = self.repos.get((account, req.region), {}).get(name)
        if r is None:
            raise AwsError('RepositoryNotFoundException', "The repository with "
                           "name '%s' does not exist in the registry with id "
                           "'%s'" % (name, account))
        return r

    def op_GetAuthorizationToken(self, params, req):
        token = base64.b64encode(('AWS:' + self.sim.registry_password)
                                 .encode()).decode()
        return {'authorizationData': [{
            'authorizationToken': token,
            'expiresAt': time.time() + 12 * 3600,
            'proxyEndpoint': 'http://%s' % (self.sim.registry or
                                            '127.0.0.1:0')}]}

    def op_CreateRepository(self, params, req):
        account = self._account(params, req)
        name = params.get('repositoryName') or ''
        if not (2 <= len(name) <= 256 and NAME_RE.fullmatch(name)):
            raise AwsError('InvalidParameterException', "Invalid parameter at "
                           "'repositoryName' failed to satisfy constraint: "
                           "'must satisfy regular expression '%s''"
                           % NAME_RE.pattern)
        mut = params.get('imageTagMutability') or 'MUTABLE'
        if mut not in ('MUTABLE', 'IMMUTABLE'):
            raise AwsError('InvalidParameterException', "Invalid parameter at "
                           "'imageTagMutability' failed to satisfy constraint:"
                           " 'Member must satisfy enum value set: [MUTABLE, "
                           "IMMUTABLE]'")
        repos = self.repos.setdefault((account, req.region), {})
        if name in repos:
            raise AwsError('RepositoryAlreadyExistsException', "The repository "
                           "with name '%s' already exists in the registry with"
                           " id '%s'" % (name, account))
        repos[name] = {
            'repositoryArn': 'arn:aws:ecr:%s:%s:repository/%s' % (
                req.region, account, name),
            'registryId': account,
            'repositoryName': name,
            'repositoryUri': '%s/%s' % (self.sim.registry or '127.0.0.1:0', name),
            'createdAt': time.time(),      # pushes happen in real time
            'imageTagMutability': mut,
            'imageScanningConfiguration': {'scanOnPush': bool(
                (params.get('imageScanningConfiguration') or {}).get('scanOnPush'))},
            'encryptionConfiguration': {'encryptionType': 'AES256'},
        }
        return {'repository': repos[name]}

    def op_DescribeRepositories(self, params, req):
        account = self._account(params, req)
        repos = self.repos.get((account, req.region), {})
        names = params.get('repositoryNames')
        if names:
            for n in names:
                if n not in repos:
                    raise AwsError('RepositoryNotFoundException', "The "
                                   "repository with name '%s' does not exist "
                                   "in the registry with id '%s'" % (n, account))
            return {'repositories': [repos[n] for n in names]}
        return {'repositories': [repos[n] for n in sorted(repos)]}

    def op_DeleteRepository(self, params, req):
        r = self._repo(params, req)
        if not params.get('force') and self._tags(r['repositoryName']):
            raise AwsError('RepositoryNotEmptyException', "The repository with "
                           "name '%s' in registry with id '%s' cannot be "
                           "deleted because it still contains images"
                           % (r['repositoryName'], r['registryId']))
        del self.repos[(r['registryId'], req.region)][r['repositoryName']]
        return {'repository': r}

    def _select(self, r, images, image_ids):
        """[(digest, image, tag asked or None)], [failures]."""
        if not image_ids:
            return [(d, img, None) for d, img in sorted(images.items())], []
        out, failures = [], []
        for iid in image_ids:
            digest, tag = iid.get('imageDigest'), iid.get('imageTag')
            hit = None
            for d, img in images.items():
                if (not digest or d == digest) and (not tag or tag in img['tags']):
                    hit = (d, img, tag)
                    break
            if hit is None:
                failures.append(iid)
            else:
                out.append(hit)
        return out, failures

    def op_DescribeImages(self, params, req):
        r = self._repo(params, req)
        images = self._images(r['repositoryName'])
        sel, failures = self._select(r, images, params.get('imageIds'))
        if failures:
            raise AwsError('ImageNotFoundException', "The image with imageId %s"
                           " does not exist within the repository with name "
                           "'%s' in the registry with id '%s'"
                           % (_image_id_text(failures[0]), r['repositoryName'],
                              r['registryId']))
        status = (params.get('filter') or {}).get('tagStatus', 'ANY')
        details, done = [], set()
        for digest, img, _ in sel:
            if digest in done or (status == 'TAGGED' and not img['tags']) or \
                    (status == 'UNTAGGED' and img['tags']):
                continue
            done.add(digest)
            try:
                m = json.loads(img['manifest'])
            except ValueError:
                m = {}
            size = sum(int(l.get('size', 0)) for l in m.get('layers') or [])
            if not size:
                size = sum(int(l.get('size', 0)) for l in m.get('manifests') or [])
            d = {'registryId': r['registryId'],
                 'repositoryName': r['repositoryName'],
                 'imageDigest': digest,
                 'imageSizeInBytes': size,
                 'imagePushedAt': self._pushed_at(r['repositoryName'], digest),
                 'imageManifestMediaType': img['type']}
            if img['tags']:
                d['imageTags'] = sorted(img['tags'])
            if m.get('config', {}).get('mediaType'):
                d['artifactMediaType'] = m['config']['mediaType']
            details.append(d)
        return {'imageDetails': details}

    def op_ListImages(self, params, req):
        r = self._repo(params, req)
        status = (params.get('filter') or {}).get('tagStatus', 'ANY')
        ids = []
        for digest, img in sorted(self._images(r['repositoryName']).items()):
            if img['tags'] and status != 'UNTAGGED':
                ids += [{'imageDigest': digest, 'imageTag': t}
                        for t in sorted(img['tags'])]
            elif not img['tags'] and status != 'TAGGED':
                ids.append({'imageDigest': digest})
        return {'imageIds': ids}

    def op_BatchGetImage(self, params, req):
        r = self._repo(params, req)
        if not params.get('imageIds'):
            raise AwsError('InvalidParameterException', "Invalid parameter at "
                           "'imageIds' failed to satisfy constraint: 'Member "
                           "must have length greater than or equal to 1'")
        images = self._images(r['repositoryName'])
        accepted = params.get('acceptedMediaTypes')
        out, failures = [], []
        for iid in params['imageIds']:
            sel, miss = self._select(r, images, [iid])
            if miss:
                failures.append({'imageId': iid, 'failureCode': 'ImageNotFound',
                                 'failureReason': 'Requested image not found'})
                continue
            digest, img, tag = sel[0]
            if accepted and img['type'] not in accepted:
                failures.append({'imageId': iid, 'failureCode':
                                 'UnsupportedImageType', 'failureReason':
                                 'Requested image media type is not accepted'})
                continue
            image_id = {'imageDigest': digest}
            if tag:
                image_id['imageTag'] = tag
            out.append({'registryId': r['registryId'],
                        'repositoryName': r['repositoryName'],
                        'imageId': image_id, 'imageManifest': img['manifest'],
                        'imageManifestMediaType': img['type']})
        return {'images': out, 'failures': failures}

    def op_PutImage(self, params, req):
        r = self._repo(params, req)
        name = r['repositoryName']
        manifest = params.get('imageManifest') or ''
        tag = params.get('imageTag')
        try:
            mtype = params.get('imageManifestMediaType') or \
                json.loads(manifest).get('mediaType') or MANIFEST_TYPES[1]
        except ValueError:
            raise AwsError('InvalidParameterException', 'Invalid parameter at '
                           "'ImageManifest' failed to satisfy constraint: "
                           "'Invalid JSON syntax'")
        digest = 'sha256:' + hashlib.sha256(manifest.encode()).hexdigest()
        if params.get('imageDigest') and params['imageDigest'] != digest:
            raise AwsError('ImageDigestDoesNotMatchException', 'The specified '
                           'digest does not match the digest of the manifest')
        if tag:
            have = self._manifest(name, tag)
            if have is not None and have[0] == digest:
                raise AwsError('ImageAlreadyExistsException', "Image with digest"
                               " '%s' and tag '%s' already exists in the "
                               "repository with name '%s' in registry with id "
                               "'%s'" % (digest, tag, name, r['registryId']))
            if have is not None and r['imageTagMutability'] == 'IMMUTABLE':
                raise AwsError('ImageTagAlreadyExistsException', "The image tag"
                               " '%s' already exists in the '%s' repository and"
                               " cannot be overwritten because the repository "
                               "is immutable." % (tag, name))
        status, resp, data = self._registry(
            'PUT', '/v2/%s/manifests/%s' % (name, tag or digest),
            body=manifest.encode(), headers={'Content-Type': mtype})
        if status == 400 and b'BLOB_UNKNOWN' in data:
            raise AwsError('LayersNotFoundException', 'Layers with digests '
                           'referenced by the manifest are not found in the '
                           "repository with name '%s' in the registry with id "
                           "'%s'" % (name, r['registryId']))
        if status not in (200, 201):
            raise AwsError('InvalidParameterException', 'awssim: the registry '
                           'refused the manifest (%d): %s'
                           % (status, data.decode(errors='replace')[:300]))
        image_id = {'imageDigest': resp.getheader('Docker-Content-Digest') or digest}
        if tag:
            image_id['imageTag'] = tag
        return {'image': {'registryId': r['registryId'], 'repositoryName': name,
                          'imageId': image_id, 'imageManifest': manifest,
                          'imageManifestMediaType': mtype}}
