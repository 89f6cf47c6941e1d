/*
 * oci-image.c: descriptors, manifests, image configs and indexes of the
 * OCI image store: parsing them and loading an image. See include/ht/oci.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/oci.h"
#include "ht/util.h"

/* --- descriptors ------------------------------------------------------------ */

void ht_oci_desc_release(struct ht_oci_desc *d)
{
	free(d->media_type);
	d->media_type = NULL;
	d->digest[0] = '\0';
	d->size = 0;
}

int ht_oci_desc_parse(json_t *j, const char *where, struct ht_oci_desc *d)
{
	const char *digest, *mt;
	json_t *size;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return ht_error("%s: expected a descriptor object", where);
	digest = ht_json_str(j, "digest", NULL);
	if (!ht_digest_valid(digest))
		return ht_error("%s: missing or unsupported digest '%s'", where, digest ? digest : "");
	size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return ht_error("%s: missing or negative size", where);
	memcpy(d->digest, digest, HT_DIGEST_LEN + 1);
	d->size = json_integer_value(size);
	mt = ht_json_str(j, "mediaType", NULL);
	d->media_type = mt ? ht_xstrdup(mt) : NULL;
	return 0;
}

int ht_oci_size_add(int64_t *sum, int64_t size)
{
	if (size < 0 || *sum < 0 || size > INT64_MAX - *sum)
		return -1;
	*sum += size;
	return 0;
}

json_t *ht_oci_desc_json(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest,
			 "size", (json_int_t)size);
}

/* --- images ---------------------------------------------------------------- */

void ht_oci_image_init(struct ht_oci_image *img)
{
	memset(img, 0, sizeof(*img));
}

void ht_oci_image_release(struct ht_oci_image *img)
{
	size_t i;

	ht_oci_desc_release(&img->manifest_desc);
	ht_oci_desc_release(&img->config_desc);
	json_decref(img->manifest);
	json_decref(img->config);
	for (i = 0; i < img->nlayers; i++)
		ht_oci_desc_release(&img->layers[i].desc);
	free(img->layers);
	ht_oci_image_init(img);
}

int ht_oci_manifest_parse(json_t *manifest, const char *where, struct ht_oci_image *img)
{
	const char *mt = ht_json_str(manifest, "mediaType", NULL);
	json_t *layers, *l;
	size_t i;

	if (!json_is_object(manifest))
		return ht_error("%s: expected a JSON object", where);
	if (json_object_get(manifest, "manifests") ||
	    (mt && (!strcmp(mt, HT_OCI_MT_INDEX) || !strcmp(mt, HT_DOCKER_MT_LIST))))
		return ht_error("%s: is an index, not a manifest", where);
	if (mt && strcmp(mt, HT_OCI_MT_MANIFEST) && strcmp(mt, HT_DOCKER_MT_MANIFEST))
		return ht_error("%s: unsupported manifest media type '%s'", where, mt);
	if (ht_json_int(manifest, "schemaVersion", 0) != 2)
		return ht_error("%s: unsupported schemaVersion (expected 2)", where);
	{
		char *w = ht_xasprintf("%s: config", where);
		int r = ht_oci_desc_parse(json_object_get(manifest, "config"), w, &img->config_desc);

		free(w);
		if (r < 0)
			return -1;
	}
	img->size = img->config_desc.size;
	layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers)) {
		ht_oci_desc_release(&img->config_desc);
		return ht_error("%s: missing layers array", where);
	}
	img->layers = ht_xcalloc(json_array_size(layers) + 1, sizeof(*img->layers));
	img->nlayers = 0;
	json_array_foreach(layers, i, l) {
		char *w = ht_xasprintf("%s: layers[%zu]", where, i);
		int r = ht_oci_desc_parse(l, w, &img->layers[i].desc);

		free(w);
		if (r < 0)
			return -1; /* the caller releases img */
		img->nlayers++;
		if (ht_oci_size_add(&img->size, img->layers[i].desc.size) < 0)
			return ht_error("%s: layers[%zu]: the sizes of the config and the layers add up to "
					"more than %lld bytes", where, i, (long long)INT64_MAX);
	}
	json_decref(img->manifest);
	img->manifest = json_incref(manifest);
	return 0;
}

int ht_oci_image_load_config(struct ht_oci_store *s, struct ht_oci_image *img)
{
	json_t *ids, *id;
	size_t i;

	json_decref(img->config);
	img->config = NULL;
	if (ht_oci_read_json(s, img->config_desc.digest, &img->config) < 0)
		return -1;
	ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != img->nlayers)
		return ht_error("config '%s': rootfs.diff_ids does not match the %zu layers",
				img->config_desc.digest, img->nlayers);
	json_array_foreach(ids, i, id) {
		const char *v = json_string_value(id);

		if (!ht_digest_valid(v))
			return ht_error("config '%s': rootfs.diff_ids[%zu]: unsupported digest",
					img->config_desc.digest, i);
		memcpy(img->layers[i].diff_id, v, HT_DIGEST_LEN + 1);
	}
	return 0;
}

int ht_oci_copy_image(struct ht_oci_store *from, struct ht_oci_store *to, const struct ht_oci_image *img)
{
	size_t i;

	if (ht_oci_copy_blob(from, to, img->config_desc.digest, img->config_desc.size) < 0)
		return -1;
	for (i = 0; i < img->nlayers; i++)
		if (ht_oci_copy_blob(from, to, img->layers[i].desc.digest, img->layers[i].desc.size) < 0)
			return -1;
	return ht_oci_copy_blob(from, to, img->manifest_desc.digest, img->manifest_desc.size);
}

/* The member key of obj, made empty (a new object or array) when it is
 * missing or of another type; borrowed. */
static json_t *member(json_t *obj, const char *key, int array)
{
	json_t *v = json_object_get(obj, key);

	if (array ? !json_is_array(v) : !json_is_object(v)) {
		v = array ? json_array() : json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

json_t *ht_oci_config_get(json_t *config, const char *key, int array)
{
	return member(member(config, "config", 0), key, array);
}

void ht_oci_config_set_env(json_t *config, const char *key, const char *value, int keep)
{
	json_t *env = ht_oci_config_get(config, "Env", 1), *e;
	size_t i, kl = strlen(key);
	char *kv = ht_xasprintf("%s=%s", key, value);

	json_array_foreach(env, i, e) {
		const char *v = json_string_value(e);

		if (v && !strncmp(v, key, kl) && v[kl] == '=') {
			if (!keep)
				json_array_set_new(env, i, json_string(kv));
			free(kv);
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
}

void ht_oci_config_add_layer(json_t *config, const char *diff_id, const char *created,
			     const char *created_by)
{
	json_array_append_new(member(member(config, "rootfs", 0), "diff_ids", 1), json_string(diff_id));
	json_array_append_new(member(config, "history", 1),
			      json_pack("{s:s, s:s}", "created", created, "created_by", created_by));
}

int ht_oci_index_pick(json_t *index, const char *os, const char *arch, const char *variant,
		      struct ht_oci_desc *d)
{
	json_t *arr = json_object_get(index, "manifests"), *m;
	size_t i;

	if (!json_is_array(arr))
		return ht_error("index: missing manifests array");
	json_array_foreach(arr, i, m) {
		json_t *p = json_object_get(m, "platform");

		if (!p || strcmp(ht_json_str(p, "os", ""), os) ||
		    strcmp(ht_json_str(p, "architecture", ""), arch))
			continue;
		if (variant && strcmp(ht_json_str(p, "variant", variant), variant))
			continue;
		{
			char *w = ht_xasprintf("index: manifests[%zu]", i);
			int r = ht_oci_desc_parse(m, w, d);

			free(w);
			return r < 0 ? -1 : 1;
		}
	}
	return 0;
}

const char *ht_oci_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

int ht_oci_image_load(struct ht_oci_store *s, const char *ref, struct ht_oci_image *img)
{
	json_t *j = NULL;
	int r;

	ht_oci_image_init(img);
	if (ht_oci_resolve(s, ref, &img->manifest_desc) < 0)
		return -1;
	if (ht_oci_read_json(s, img->manifest_desc.digest, &j) < 0)
		goto fail;
	if (json_object_get(j, "manifests")) {
		struct ht_oci_desc d;

		r = ht_oci_index_pick(j, "linux", ht_oci_host_arch(), NULL, &d);
		json_decref(j);
		j = NULL;
		if (r == 0)
			ht_error("image '%s' has no manifest for linux/%s", ref, ht_oci_host_arch());
		if (r <= 0)
			goto fail;
		ht_oci_desc_release(&img->manifest_desc);
		img->manifest_desc = d;
		if (!img->manifest_desc.media_type)
			img->manifest_desc.media_type = ht_xstrdup(HT_OCI_MT_MANIFEST);
		if (ht_oci_read_json(s, img->manifest_desc.digest, &j) < 0)
			goto fail;
	}
	{
		char *w = ht_xasprintf("manifest '%s'", img->manifest_desc.digest);

		r = ht_oci_manifest_parse(j, w, img);
		free(w);
	}
	json_decref(j);
	j = NULL;
	if (r < 0 || ht_oci_image_load_config(s, img) < 0)
		goto fail;
	return 0;
fail:
	json_decref(j);
	ht_oci_image_release(img);
	return -1;
}
