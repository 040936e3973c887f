/* http_auth: static tokens (constant-time compare, names as tenants) and
 * JWTs verified by cjose against a JWKS: a good token passes with its
 * tenant and scopes; an expired one, another audience or issuer, alg
 * "none", HS256 keyed with the public key (algorithm confusion), a token
 * signed by another key and garbage all fail. */
#include <cjose/cjose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "http_auth.h"

static char dir[] = "/tmp/pymcp-auth-XXXXXX";

static void write_file(const char *name, const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *sign(cjose_jwk_t *key, const char *alg, json_t *claims_new)
{
	cjose_err e;
	char *payload = json_dumps(claims_new, JSON_COMPACT);
	cjose_header_t *h = cjose_header_new(&e);
	const char *out = NULL;
	char *copy;

	json_decref(claims_new);
	cjose_header_set(h, CJOSE_HDR_ALG, alg, &e);
	cjose_header_set(h, CJOSE_HDR_KID, "k1", &e);
	cjose_jws_t *jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &e);
	if (jws == NULL || !cjose_jws_export(jws, &out, &e)) {
		fprintf(stderr, "sign: %s\n", e.message);
		exit(1);
	}
	copy = strdup(out);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return copy;
}

static json_t *claims(const char *iss, const char *aud, long exp_delta, const char *scope)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s}", "iss", iss, "aud", aud, "sub", "alice", "exp",
			 (json_int_t)(time(NULL) + exp_delta), "scope", scope);
}

static enum auth_verdict check_bearer(struct http_auth *a, const char *token,
				      struct auth_principal *p)
{
	char header[4096], why[256];

	snprintf(header, sizeof(header), "Bearer %s", token);
	return http_auth_check(a, header, strlen(header), p, why, sizeof(why));
}

int main(void)
{
	struct pm_error err = {0};
	struct auth_principal p;
	struct http_auth *a = NULL;
	char tokens[256], jwks[256];
	cjose_err e;

	if (mkdtemp(dir) == NULL)
		return 1;
	cjose_jwk_t *key = cjose_jwk_create_RSA_random(2048, NULL, 0, &e);
	cjose_jwk_t *other = cjose_jwk_create_RSA_random(2048, NULL, 0, &e);
	cjose_jwk_set_kid(key, "k1", 2, &e);
	char *pub = cjose_jwk_to_json(key, false, &e);
	char *set;
	if (asprintf(&set, "{\"keys\": [%s]}", pub) < 0)
		return 1;
	write_file("tokens", "# comment\nteam-a s3cret-token-aaaaaaaaaaaaaaaa\n", tokens,
		   sizeof(tokens));
	write_file("jwks.json", set, jwks, sizeof(jwks));
	struct http_auth_config cfg = {.tokens_file = tokens,
				       .jwks_file = jwks,
				       .issuer = "https://issuer.example",
				       .audience = "https://mcp.example/mcp",
				       .resource = "https://mcp.example/mcp"};
	CHECK_MSG(http_auth_new(&cfg, &a, &err) == 0 && a, "%s", err.message);

	/* Static tokens. */
	CHECK(check_bearer(a, "s3cret-token-aaaaaaaaaaaaaaaa", &p) == AUTH_OK);
	CHECK_STR(p.tenant, "team-a");
	CHECK(p.run && p.jobs);
	CHECK(check_bearer(a, "s3cret-token-aaaaaaaaaaaaaaab", &p) == AUTH_INVALID);
	CHECK(http_auth_check(a, NULL, 0, &p, (char[64]){0}, 64) == AUTH_MISSING);

	/* JWTs. */
	const char *iss = cfg.issuer, *aud = cfg.audience;
	char *t = sign(key, "RS256", claims(iss, aud, 300, "python-mcp:run"));
	CHECK(check_bearer(a, t, &p) == AUTH_OK);
	/* A digest of issuer and subject, never the claim itself. */
	CHECK(strncmp(p.tenant, "jwt-", 4) == 0 && strlen(p.tenant) == 36);
	CHECK(p.run && !p.jobs);
	free(t);
	struct {
		const char *what;
		char *token;
	} bad[] = {
	    {"expired", sign(key, "RS256", claims(iss, aud, -300, "python-mcp:run"))},
	    {"another audience", sign(key, "RS256", claims(iss, "https://other/mcp", 300, ""))},
	    {"another issuer", sign(key, "RS256", claims("https://evil", aud, 300, ""))},
	    {"another key", sign(other, "RS256", claims(iss, aud, 300, "python-mcp:run"))},
	    {"garbage", strdup("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_MSG(check_bearer(a, bad[i].token, &p) == AUTH_INVALID, "%s", bad[i].what);
		free(bad[i].token);
	}
	/* Algorithm confusion: HS256 keyed with the public key's text. */
	cjose_jwk_t *hmac = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), &e);
	t = sign(hmac, "HS256", claims(iss, aud, 300, "python-mcp:run"));
	CHECK(check_bearer(a, t, &p) == AUTH_INVALID);
	free(t);

	/* Token files that could blur tenants are refused whole. */
	const char *bad_files[] = {
	    "jwt-0123456789abcdef0123456789abcdef tok-aaaaaaaaaaaaaaaaaaaa\n",
	    "one tok-same-aaaaaaaaaaaaaaaa\ntwo tok-same-aaaaaaaaaaaaaaaa\n",
	    "short tok\n",
	};
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(*bad_files); i++) {
		char bad_path[256];
		struct http_auth *b = NULL;
		struct http_auth_config bc = {.tokens_file = bad_path};
		write_file("bad-tokens", bad_files[i], bad_path, sizeof(bad_path));
		CHECK_MSG(http_auth_new(&bc, &b, &err) < 0 && b == NULL, "token file %zu", i);
		unlink(bad_path);
	}
	/* JWKS without an issuer to check is refused. */
	struct http_auth *noiss = NULL;
	struct http_auth_config nc = {.jwks_file = jwks, .audience = cfg.audience};
	CHECK(http_auth_new(&nc, &noiss, &err) < 0 && noiss == NULL);

	json_t *meta = http_auth_metadata(a);
	CHECK_STR(json_string_value(json_object_get(meta, "resource")), cfg.resource);
	json_decref(meta);
	CHECK(auth_tenant_valid("team-a") && !auth_tenant_valid("..") && !auth_tenant_valid("a/b"));

	http_auth_free(a);
	cjose_jwk_release(key);
	cjose_jwk_release(other);
	cjose_jwk_release(hmac);
	free(pub);
	free(set);
	unlink(tokens);
	unlink(jwks);
	rmdir(dir);
	return check_done("http_auth");
}
