/*
 * fuzz_oci.c - the OCI image layout reader of the ecr stage
 * (plugins/ecr/layout.c): index.json, the manifest of the tag, and the
 * blob descriptors the push trusts.
 *
 * Input: index.json, a line "----", then the manifest.  The manifest is
 * stored under its own digest, and "sha256:MANIFEST" in the index is
 * replaced by that digest so that inputs get past the digest check.
 * The layout also holds two blobs, "" and "{}", for descriptors to
 * point at.
 */
#include "config.h"

#include "fuzz.h"

#include "../../plugins/ecr/layout.c"

#define SEP "\n----\n"
#define PLACEHOLDER "sha256:MANIFEST"

static char *replace_all(const char *s, const char *what, const char *with)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *hit;

	while ((hit = strstr(s, what))) {
		gantry_buf_add(&b, s, (size_t)(hit - s));
		gantry_buf_adds(&b, with);
		s = hit + strlen(what);
	}
	gantry_buf_adds(&b, s);
	return gantry_buf_detach(&b);
}

static void put_blob(const char *content)
{
	char digest[ECR_DIGEST_LEN], name[128];

	ecr_sha256(content, strlen(content), digest);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	fuzz_write(name, content, strlen(content));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	fuzz_mkdir("blobs");
	fuzz_mkdir("blobs/sha256");
	put_blob("");
	put_blob("{}");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size), *sep = strstr(in, SEP);
	const char *manifest = sep ? sep + strlen(SEP) : "";
	char digest[ECR_DIGEST_LEN], name[128], err[300], *index;
	struct oci_image img;
	size_t i, mlen;

	if (sep)
		*sep = '\0';
	mlen = sep ? size - (size_t)(manifest - in) : 0;
	ecr_sha256(manifest, mlen, digest);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	fuzz_put(name, manifest, mlen, 1);
	index = replace_all(in, PLACEHOLDER, digest);
	fuzz_write("index.json", index, strlen(index));

	err[0] = '\0';
	if (oci_read(fuzz_dir(), "v1", &img, err, sizeof(err)) == 0) {
		/* What the push trusts: the digest form, and files inside
		   the layout. */
		if (!ecr_digest_valid(img.digest) || !img.media_type ||
		    img.nblobs < 1 || img.manifest_len != mlen)
			abort();
		for (i = 0; i < img.nblobs; i++)
			if (!ecr_digest_valid(img.blobs[i].digest) ||
			    img.blobs[i].size < 0 ||
			    strncmp(img.blobs[i].path, fuzz_dir(),
				    strlen(fuzz_dir())))
				abort();
		oci_clear(&img);
	} else if (!err[0]) {
		abort();
	}
	/* Manifests other than the two fixed blobs do not pile up. */
	if (strcmp(digest + 7, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &&
	    strcmp(digest + 7, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")) {
		char path[300];

		unlink(fuzz_path(path, sizeof(path), name));
	}
	free(index);
	free(in);
	return 0;
}
