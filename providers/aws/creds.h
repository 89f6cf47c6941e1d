/*
 * creds.h: AWS credentials, profiles and regions, resolved as the AWS CLI
 * does, and the INI reader of the shared files (~/.aws/config,
 * ~/.aws/credentials). docs/aws-credentials.md describes the order.
 *
 * Ownership: structs own the strings in them and free them in their
 * _release(); const char * arguments are borrowed; functions returning
 * char * return a new string the caller frees. Secrets (the secret key,
 * the session token, values of the files) are wiped when freed and never
 * reach a message.
 */
#ifndef HT_AWS_CREDS_H
#define HT_AWS_CREDS_H

#include <stddef.h>

struct ht_aws_error; /* aws.h */

/* --- INI files --------------------------------------------------------------- */

struct ht_ini_entry {
	char *section; /* "default", "profile dev", "dev" */
	char *key;     /* lowercase; a nested "s3 =" block gives "s3.key" */
	char *value;
};
struct ht_ini {
	struct ht_ini_entry *v;
	size_t n;
};
void ht_ini_init(struct ht_ini *ini);
void ht_ini_release(struct ht_ini *ini);
/*
 * Parses text (name is for messages) into ini, adding to what it holds.
 * Comments start with '#' or ';'. Returns 0, or -1 after printing
 * "NAME:LINE: what is wrong".
 */
int ht_ini_parse(struct ht_ini *ini, const char *text, const char *name);
/* Reads and parses a file: 0, 1 when it does not exist, -1 on error. */
int ht_ini_load(struct ht_ini *ini, const char *path);
/* The value of key in section (the last one given), borrowed, or NULL. */
const char *ht_ini_get(const struct ht_ini *ini, const char *section, const char *key);
/* 1 when the section exists. */
int ht_ini_has_section(const struct ht_ini *ini, const char *section);

/* --- credentials, profiles, regions ----------------------------------------- */

struct ht_aws_creds {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;     /* secret, or NULL */
	const char *source;      /* static: "environment", "credentials file", "config file", "sts" */
};
void ht_aws_creds_init(struct ht_aws_creds *c);
/* Wipes and frees the secrets. */
void ht_aws_creds_release(struct ht_aws_creds *c);
/* 1 when a and b are the same key pair and session token. */
int ht_aws_creds_equal(const struct ht_aws_creds *a, const struct ht_aws_creds *b);
/* Wipes the string s and frees it (NULL is fine): for secrets. */
void ht_aws_wipe_free(char *s);

/* The value of the environment variable name, or NULL when it is unset
 * or empty. Borrowed from the environment. */
const char *ht_aws_env(const char *name);

/*
 * The profile to use: the caller's (hypertest.json aws.profile, may be
 * NULL), else AWS_PROFILE, else "default". Borrowed from the argument, the
 * environment or a literal.
 */
const char *ht_aws_profile_name(const char *caller_profile);

/* The shared files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/config and ~/.aws/credentials. New strings. */
char *ht_aws_config_path(void);
char *ht_aws_credentials_path(void);

/* The two shared files, parsed (missing files are empty). */
struct ht_aws_files {
	struct ht_ini config;
	struct ht_ini credentials;
	char *config_path, *credentials_path;
};
int ht_aws_files_load(struct ht_aws_files *f);
void ht_aws_files_release(struct ht_aws_files *f);
/* A setting of profile in the config file ("[profile NAME]", or
 * "[default]"), borrowed, or NULL. */
const char *ht_aws_profile_get(const struct ht_aws_files *f, const char *profile, const char *key);

/*
 * The standard chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
 * AWS_SESSION_TOKEN) from the environment; else the profile's keys in the
 * credentials file ("[NAME]"); else in the config file. explicit_profile
 * says the profile was named (not the fallback "default"), so that a
 * missing profile is an error. Returns 0, or -1 with e filled (kind
 * CREDENTIALS or CONFIG) and nothing printed.
 */
int ht_aws_creds_resolve(struct ht_aws_creds *c, const struct ht_aws_files *f, const char *profile,
			 int explicit_profile, struct ht_aws_error *e);

/*
 * The region: the caller's (hypertest.json aws.region), else AWS_REGION,
 * else AWS_DEFAULT_REGION, else the profile's "region". New string, or
 * NULL when none is set anywhere.
 */
char *ht_aws_region_resolve(const char *caller_region, const struct ht_aws_files *f, const char *profile);

#endif
