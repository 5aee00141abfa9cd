/*
 * layout.c - the image to push, read from an OCI image layout
 * (index.json -> the manifest of the tag -> config and layers).
 *
 * Everything the push trusts is checked here first: digests have the one
 * form we accept (so a digest can never name a path outside blobs/), the
 * manifest hashes to its digest, and every blob file has its size.  The
 * blobs' own contents are hashed while they are uploaded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ecr.h"

#include "banned.h"

#define REF_NAME "org.opencontainers.image.ref.name"
/* index.json and manifests are small; anything larger is not a layout. */
#define MAX_META_BYTES (4L * 1024 * 1024)

/* The whole of a small file, NUL-terminated; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (size_t)MAX_META_BYTES + 8192) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = gantry_xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *blob_path(const char *dir, const char *digest)
{
	return gantry_xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

/* The value of the ref.name annotation of a descriptor, or NULL: a key
   with dots cannot be reached through a JSON path. */
static const char *ref_name(const struct gantry_json *desc)
{
	struct gantry_json *ann = gantry_json_get(desc, "annotations");
	size_t k;

	for (k = 0; k < gantry_json_keys(ann); k++)
		if (!strcmp(gantry_json_key_at(ann, k), REF_NAME))
			return gantry_json_string(gantry_json_value_at(ann, k),
						  NULL, NULL);
	return NULL;
}

/* The manifest descriptor of the tag in the index, or NULL. */
static struct gantry_json *find_manifest(const struct gantry_json *index,
					 const char *tag)
{
	struct gantry_json *list = gantry_json_get(index, "manifests");
	size_t i, n = gantry_json_length(list);

	for (i = 0; i < n; i++) {
		struct gantry_json *m = gantry_json_at(list, i);
		const char *ref = ref_name(m);

		if (ref && !strcmp(ref, tag))
			return m;
	}
	return n == 1 ? gantry_json_at(list, 0) : NULL;
}

static int add_blob(struct oci_image *img, const struct gantry_json *desc,
		    const char *dir, const char *what, char *err,
		    size_t errlen)
{
	const char *digest = gantry_json_string(desc, "digest", NULL);
	long long size = gantry_json_int(desc, "size", -1);
	struct oci_blob *b;
	struct stat sb;

	if (!ecr_digest_valid(digest) || size < 0) {
		snprintf(err, errlen, "the manifest's %s has no valid sha256 "
			 "digest and size", what);
		return -1;
	}
	img->blobs = gantry_xrealloc(img->blobs,
				  (img->nblobs + 1) * sizeof(*img->blobs));
	b = &img->blobs[img->nblobs++];
	b->digest = gantry_xstrdup(digest);
	b->media_type = gantry_xstrdup(gantry_json_string(desc, "mediaType",
					"application/octet-stream"));
	b->size = size;
	b->path = blob_path(dir, digest);
	if (stat(b->path, &sb) < 0) {
		snprintf(err, errlen, "%s %s is missing from the layout: %s",
			 what, digest, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size != size) {
		snprintf(err, errlen, "%s %s in the layout has %lld bytes, "
			 "its descriptor says %lld", what, digest,
			 (long long)sb.st_size, size);
		return -1;
	}
	img->total += size;
	return 0;
}

int oci_read(const char *dir, const char *tag, struct oci_image *img,
	     char *err, size_t errlen)
{
	struct gantry_json *index = NULL, *manifest = NULL, *desc, *layers;
	char *path, *text, jerr[160];
	const char *digest, *mtype;
	size_t len, i;
	int rc = -1;

	memset(img, 0, sizeof(*img));
	path = gantry_xasprintf("%s/index.json", dir);
	text = slurp(path, &len);
	if (!text) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	index = gantry_json_parse(text, len, jerr, sizeof(jerr));
	free(text);
	if (!index) {
		snprintf(err, errlen, "'%s/index.json' is not JSON: %s", dir,
			 jerr);
		return -1;
	}
	desc = find_manifest(index, tag);
	if (!desc) {
		snprintf(err, errlen, "no image tagged '%s' in the layout "
			 "'%s'", tag, dir);
		goto out;
	}
	digest = gantry_json_string(desc, "digest", NULL);
	mtype = gantry_json_string(desc, "mediaType", NULL);
	if (!ecr_digest_valid(digest)) {
		snprintf(err, errlen, "the index entry of '%s' has no valid "
			 "sha256 digest", tag);
		goto out;
	}
	if (mtype && (strstr(mtype, "image.index") ||
		      strstr(mtype, "manifest.list"))) {
		snprintf(err, errlen, "'%s' is a multi-platform index; the "
			 "ecr stage pushes single-platform images (build "
			 "with one platform)", tag);
		goto out;
	}
	path = blob_path(dir, digest);
	img->manifest = slurp(path, &img->manifest_len);
	if (!img->manifest) {
		snprintf(err, errlen, "cannot read the manifest %s: %s",
			 digest, strerror(errno));
		free(path);
		goto out;
	}
	free(path);
	ecr_sha256(img->manifest, img->manifest_len, img->digest);
	if (strcmp(img->digest, digest) != 0) {
		snprintf(err, errlen, "the manifest of '%s' is corrupt: its "
			 "content hashes to %s, the index says %s", tag,
			 img->digest, digest);
		goto out;
	}
	manifest = gantry_json_parse(img->manifest, img->manifest_len, jerr,
				     sizeof(jerr));
	if (!manifest) {
		snprintf(err, errlen, "the manifest of '%s' is not JSON: %s",
			 tag, jerr);
		goto out;
	}
	if (!mtype)
		mtype = gantry_json_string(manifest, "mediaType", NULL);
	img->media_type = gantry_xstrdup(mtype ? mtype :
			"application/vnd.oci.image.manifest.v1+json");
	if (add_blob(img, gantry_json_get(manifest, "config"), dir, "config",
		     err, errlen) < 0)
		goto out;
	layers = gantry_json_get(manifest, "layers");
	for (i = 0; i < gantry_json_length(layers); i++)
		if (add_blob(img, gantry_json_at(layers, i), dir, "layer",
			     err, errlen) < 0)
			goto out;
	rc = 0;
out:
	gantry_json_free(manifest);
	gantry_json_free(index);
	if (rc < 0)
		oci_clear(img);
	return rc;
}

void oci_clear(struct oci_image *img)
{
	size_t i;

	for (i = 0; i < img->nblobs; i++) {
		free(img->blobs[i].digest);
		free(img->blobs[i].media_type);
		free(img->blobs[i].path);
	}
	free(img->blobs);
	free(img->manifest);
	free(img->media_type);
	memset(img, 0, sizeof(*img));
}
