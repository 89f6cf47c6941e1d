/*
 * fuzz-oci.c: OCI manifests, indexes and image configs (lib/oci-image.c,
 * lib/rootfs-exec.c) given as any JSON text: the document is read as a
 * manifest, as an index (for linux/amd64, with and without a variant) and
 * as an image config, then edited as ht-build edits a config. A manifest
 * that parses has valid descriptors whose sizes add up to img.size.
 */
#include <jansson.h>

#include "ht/oci.h"
#include "ht/rootfs.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct ht_oci_image img;
	struct ht_oci_desc d;
	struct ht_rootfs_exec x;

	if (!j)
		return 0;
	ht_oci_image_init(&img);
	if (ht_oci_manifest_parse(j, "fuzz", &img) == 0) {
		int64_t sum = img.config_desc.size;
		size_t i;

		FUZZ_ASSERT(ht_digest_valid(img.config_desc.digest));
		for (i = 0; i < img.nlayers; i++) {
			FUZZ_ASSERT(ht_digest_valid(img.layers[i].desc.digest));
			FUZZ_ASSERT(ht_oci_size_add(&sum, img.layers[i].desc.size) == 0);
		}
		FUZZ_ASSERT(sum == img.size);
	}
	ht_oci_image_release(&img);
	if (ht_oci_index_pick(j, "linux", "amd64", NULL, &d) == 1) {
		FUZZ_ASSERT(ht_digest_valid(d.digest) && d.size >= 0);
		ht_oci_desc_release(&d);
	}
	if (ht_oci_index_pick(j, "linux", "arm64", "v8", &d) == 1)
		ht_oci_desc_release(&d);
	ht_rootfs_exec_init(&x);
	if (ht_rootfs_exec_from_config(j, &x) == 0)
		FUZZ_ASSERT(x.entrypoint && x.cmd && x.env && x.working_dir && x.user);
	ht_rootfs_exec_release(&x);
	if (json_is_object(j)) {
		ht_oci_config_set_env(j, "PATH", "/bin", 0);
		ht_oci_config_set_env(j, "HT_X", "1", 1);
		ht_oci_config_add_layer(j, "sha256:0", "1970-01-01T00:00:00Z", "fuzz");
		FUZZ_ASSERT(json_is_array(ht_oci_config_get(j, "Env", 1)));
	}
	json_decref(j);
	return 0;
}
