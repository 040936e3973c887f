#include "http_auth.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "hash.h"
#include "jwks_fetch.h"
#include "log.h"

/* Clock skew tolerated on exp and nbf. */
#define LEEWAY_SECONDS 60
#define TOKENS_MAX     4096
#define KEYS_MAX       64
#define FILE_MAX       (1 << 20)

struct static_token {
	char tenant[AUTH_TENANT_MAX + 1];
	uint8_t digest[32]; /* SHA-256 of the token: compared, never the token */
};

/* A JWKS by URL is fetched again every cfg.jwks_refresh_s, on SIGHUP,
 * and when a token names a key it does not hold (the issuer rotated its
 * keys), at most once a minute; on the thread pool, so a slow issuer
 * never stalls the loop.  A fetch that fails keeps the old keys. */
struct jwks_refresh {
	uv_loop_t *loop; /* NULL until http_auth_start() */
	uv_timer_t timer;
	uv_work_t work;
	bool busy, stopped;
	uint64_t last_ms; /* when the last fetch started */
	char *text;	  /* the worker's result */
	size_t len;
	int rc;
	struct pm_error err;
};

struct http_auth {
	struct http_auth_config cfg;
	struct static_token *tokens;
	size_t n_tokens;
	cjose_jwk_t *keys[KEYS_MAX];
	size_t n_keys;
	struct jwks_refresh refresh;
};

bool auth_tenant_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= AUTH_TENANT_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		   n &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static void digest(const char *s, size_t len, uint8_t out[32])
{
	struct pm_sha256 h;

	pm_sha256_init(&h);
	pm_sha256_update(&h, s, len);
	pm_sha256_digest(&h, out);
}

/* ---- static tokens ---- */

static int load_tokens(const char *file, struct static_token **out, size_t *n, struct pm_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct static_token *list = NULL;
	size_t len, count = 0, line_no = 0;
	char *line, *save = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = pm_read_file(file, FILE_MAX, &text, &len, err)) < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], token[1024];
		line_no++;
		if (line[strspn(line, " \t\r")] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (sscanf(line, "%255s %1023s", name, token) != 2 || strlen(token) < 16 ||
		    strlen(token) >= sizeof(token) - 1 || !auth_tenant_valid(name) ||
		    strncmp(name, AUTH_JWT_TENANT_PREFIX, strlen(AUTH_JWT_TENANT_PREFIX)) == 0) {
			free(list);
			pm_error_set(err, "auth", EINVAL,
				     "token file `%s` line %zu is not `NAME TOKEN`", file, line_no);
			return pm_error_hint(
			    err, "NAME is the tenant ([A-Za-z0-9._-], at most 64, not "
				 "starting with `" AUTH_JWT_TENANT_PREFIX "`); TOKEN 16 "
				 "to 1021 characters, e.g. from `openssl rand -hex 32`");
		}
		if (count == TOKENS_MAX) {
			free(list);
			return pm_error_set(err, "auth", E2BIG,
					    "token file `%s` has more than %d tokens", file,
					    TOKENS_MAX);
		}
		struct static_token *grown = realloc(list, (count + 1) * sizeof(*list));
		if (grown == NULL) {
			free(list);
			return pm_error_set(err, "auth", ENOMEM, "token file `%s`", file);
		}
		list = grown;
		snprintf(list[count].tenant, sizeof(list[count].tenant), "%s", name);
		digest(token, strlen(token), list[count].digest);
		for (size_t k = 0; k < count; k++)
			if (memcmp(list[k].digest, list[count].digest, 32) == 0) {
				free(list);
				pm_error_set(err, "auth", EINVAL,
					     "token file `%s` line %zu repeats a token", file,
					     line_no);
				return pm_error_hint(err, "give every name its own token");
			}
		count++;
	}
	*out = list;
	*n = count;
	return 0;
}

/* Every entry is compared, each in constant time: neither the match nor
 * the position of a near miss shows in the time it takes. */
static const struct static_token *match_token(const struct http_auth *a, const char *token,
					      size_t len)
{
	const struct static_token *found = NULL;
	uint8_t d[32];

	digest(token, len, d);
	for (size_t i = 0; i < a->n_tokens; i++) {
		unsigned diff = 0;
		for (size_t k = 0; k < 32; k++)
			diff |= d[k] ^ a->tokens[i].digest[k];
		if (diff == 0)
			found = &a->tokens[i];
	}
	return found;
}

/* ---- JWKS ---- */

static void release_keys(cjose_jwk_t **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cjose_jwk_release(keys[i]);
}

/* The keys of a JWKS document; `file` (its path or URL) names it. */
static int parse_jwks(const char *text, size_t len, const char *file, cjose_jwk_t **keys, size_t *n,
		      struct pm_error *err)
{
	json_t *set, *k;
	size_t i;

	*n = 0;
	set = json_loadb(text, len, 0, NULL);
	if (!json_is_array(json_object_get(set, "keys"))) {
		json_decref(set);
		pm_error_set(err, "auth", EINVAL, "JWKS `%s` is no {\"keys\": [...]} document",
			     file);
		return pm_error_hint(err, "save the issuer's jwks_uri document as it is");
	}
	json_array_foreach (json_object_get(set, "keys"), i, k) {
		_cleanup_free_ char *one = json_dumps(k, JSON_COMPACT);
		cjose_err cerr;
		cjose_jwk_t *jwk;

		if (*n == KEYS_MAX)
			break;
		jwk = one ? cjose_jwk_import(one, strlen(one), &cerr) : NULL;
		if (jwk == NULL) {
			log_msg(LOG_LEVEL_WARNING, "JWKS `%s`: key %zu skipped (%s)", file, i,
				one ? cerr.message : "out of memory");
			continue;
		}
		/* Signatures by the issuer's public keys only: a shared
		 * secret in a public key set would let anyone sign. */
		if (cjose_jwk_get_kty(jwk, &cerr) == CJOSE_JWK_KTY_OCT) {
			log_msg(LOG_LEVEL_WARNING, "JWKS `%s`: symmetric key %zu skipped", file, i);
			cjose_jwk_release(jwk);
			continue;
		}
		keys[(*n)++] = jwk;
	}
	json_decref(set);
	if (*n == 0)
		return pm_error_set(err, "auth", EINVAL, "JWKS `%s` holds no usable public key",
				    file);
	return 0;
}

/* From the file or, blocking, from the URL (at start only). */
static int load_jwks(const char *where, cjose_jwk_t **keys, size_t *n, struct pm_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	*n = 0;
	if (jwks_is_url(where))
		r = jwks_fetch(where, &text, &len, err);
	else
		r = pm_read_file(where, FILE_MAX, &text, &len, err);
	if (r < 0)
		return r;
	return parse_jwks(text, len, where, keys, n, err);
}

static void set_keys(struct http_auth *a, cjose_jwk_t **keys, size_t n)
{
	release_keys(a->keys, a->n_keys);
	memcpy(a->keys, keys, n * sizeof(*keys));
	a->n_keys = n;
}

static void fetch_work(uv_work_t *w)
{
	struct http_auth *a = w->data;
	struct jwks_refresh *f = &a->refresh;

	f->err = (struct pm_error){0};
	f->rc = jwks_fetch(a->cfg.jwks_file, &f->text, &f->len, &f->err);
}

static void fetch_done(uv_work_t *w, int status)
{
	struct http_auth *a = w->data;
	struct jwks_refresh *f = &a->refresh;
	_cleanup_free_ char *text = TAKE_PTR(f->text);
	cjose_jwk_t *keys[KEYS_MAX];
	size_t n;

	f->busy = false;
	if (f->stopped || status < 0)
		return;
	if (f->rc == 0)
		f->rc = parse_jwks(text, f->len, a->cfg.jwks_file, keys, &n, &f->err);
	if (f->rc < 0) {
		log_msg(LOG_LEVEL_WARNING, "JWKS not refreshed, the old %zu keys stay: %s%s%s",
			a->n_keys, f->err.message, f->err.hint[0] ? ". Hint: " : "", f->err.hint);
		return;
	}
	if (n != a->n_keys)
		log_info("JWKS `%s` refreshed: %zu keys (were %zu)", a->cfg.jwks_file, n,
			 a->n_keys);
	set_keys(a, keys, n);
}

/* Starts a fetch unless one runs; `soon` (an unknown key) at most once
 * a minute, or once an interval when that is shorter. */
static void refresh_jwks(struct http_auth *a, bool soon)
{
	struct jwks_refresh *f = &a->refresh;
	uint64_t now, gap = 60000;

	if (f->loop == NULL || f->busy || f->stopped || !jwks_is_url(a->cfg.jwks_file))
		return;
	now = uv_now(f->loop);
	if (a->cfg.jwks_refresh_s * 1000 < gap)
		gap = a->cfg.jwks_refresh_s * 1000;
	if (soon && f->last_ms != 0 && now - f->last_ms < gap)
		return;
	f->last_ms = now;
	f->work.data = a;
	if (uv_queue_work(f->loop, &f->work, fetch_work, fetch_done) == 0)
		f->busy = true;
}

static void on_refresh_timer(uv_timer_t *t)
{
	refresh_jwks(t->data, false);
}

/* ---- JWTs ---- */

static bool allowed_alg(const char *alg)
{
	static const char *const algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
					   "PS512", "ES256", "ES384", "ES512"};

	for (size_t i = 0; alg && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i]) == 0)
			return true;
	return false;
}

static bool audience_ok(const json_t *aud, const char *want)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach (aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return true;
	return false;
}

static bool has_scope(const json_t *claims, const char *scope)
{
	const char *s = json_string_value(json_object_get(claims, "scope"));
	size_t n = strlen(scope);
	const json_t *v;
	size_t i;

	for (const char *p = s; p && (p = strstr(p, scope)) != NULL; p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	json_array_foreach (json_object_get(claims, "scp"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), scope) == 0)
			return true;
	return false;
}

/* The tenant of a JWT's subject: `jwt-` and a digest of the issuer and
 * the claim, always.  A name taken from the claim itself could equal a
 * static token's name, another digest, or (with a claim users choose)
 * another user's; the prefix is refused in the token file. */
static void tenant_of(const char *issuer, const char *subject, char *out, size_t size)
{
	char hex[PM_SHA256_HEX], *both = NULL;
	size_t ni = strlen(issuer ? issuer : ""), ns = strlen(subject);

	if ((both = malloc(ni + 1 + ns)) == NULL) {
		snprintf(out, size, "%s", "");
		return;
	}
	memcpy(both, issuer ? issuer : "", ni);
	both[ni] = '\0'; /* issuer and claim cannot run into each other */
	memcpy(both + ni + 1, subject, ns);
	pm_sha256_of(both, ni + 1 + ns, hex);
	free(both);
	snprintf(out, size, AUTH_JWT_TENANT_PREFIX "%.32s", hex);
}

static enum auth_verdict check_jwt(struct http_auth *a, const char *token, size_t len,
				   struct auth_principal *out, char *why, size_t size)
{
	cjose_err cerr;
	cjose_jws_t *jws = cjose_jws_import(token, len, &cerr);
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	bool verified = false;
	json_t *claims = NULL;
	enum auth_verdict v = AUTH_INVALID;

	if (jws == NULL) {
		snprintf(why, size, "the token is not a JWS");
		return AUTH_INVALID;
	}
	cjose_header_t *hdr = cjose_jws_get_protected(jws);
	const char *alg = cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr);
	const char *kid = cjose_header_get(hdr, CJOSE_HDR_KID, &cerr);
	if (!allowed_alg(alg)) {
		snprintf(why, size, "signature algorithm `%.16s` is not accepted", alg ? alg : "");
		goto out;
	}
	bool known = false;
	for (size_t i = 0; i < a->n_keys && !verified; i++) {
		const char *k = cjose_jwk_get_kid(a->keys[i], &cerr);
		if (kid && k && strcmp(kid, k) != 0)
			continue;
		known = true;
		verified = cjose_jws_verify(jws, a->keys[i], &cerr);
	}
	if (!verified && !known) {
		/* A key the issuer has added since: fetch the set again; the
		 * client's retry finds it. */
		refresh_jwks(a, true);
		snprintf(why, size, "no key `%.64s` in the JWKS", kid ? kid : "");
		goto out;
	}
	if (!verified) {
		snprintf(why, size, "the signature does not verify with the JWKS");
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &cerr) ||
	    (claims = json_loadb((const char *)plain, plain_len, 0, NULL)) == NULL) {
		snprintf(why, size, "the claims are not JSON");
		goto out;
	}
	double now = (double)time(NULL);
	json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *claim = a->cfg.tenant_claim ? a->cfg.tenant_claim : "sub";
	const char *subject = json_string_value(json_object_get(claims, claim));
	if (!json_is_number(exp) || json_number_value(exp) + LEEWAY_SECONDS < now) {
		snprintf(why, size, "the token has expired (or has no exp)");
	} else if (json_is_number(nbf) && json_number_value(nbf) - LEEWAY_SECONDS > now) {
		snprintf(why, size, "the token is not valid yet (nbf)");
	} else if (a->cfg.issuer && (iss == NULL || strcmp(iss, a->cfg.issuer) != 0)) {
		snprintf(why, size, "the token's issuer is not %.200s", a->cfg.issuer);
	} else if (a->cfg.audience &&
		   !audience_ok(json_object_get(claims, "aud"), a->cfg.audience)) {
		snprintf(why, size, "the token is not for this resource (aud must be %.200s)",
			 a->cfg.audience);
	} else if (subject == NULL || subject[0] == '\0') {
		snprintf(why, size, "the token has no `%.64s` claim naming the tenant", claim);
	} else {
		tenant_of(a->cfg.issuer, subject, out->tenant, sizeof(out->tenant));
		out->run = has_scope(claims, AUTH_SCOPE_RUN);
		out->jobs = has_scope(claims, AUTH_SCOPE_JOBS);
		out->expires = json_number_value(exp) + LEEWAY_SECONDS;
		v = AUTH_OK;
	}
out:
	json_decref(claims);
	cjose_jws_release(jws);
	return v;
}

/* ---- the checks ---- */

enum auth_verdict http_auth_check(struct http_auth *a, const char *header, size_t len,
				  struct auth_principal *out, char *why, size_t size)
{
	const struct static_token *st;
	const char *token;

	*out = (struct auth_principal){0};
	why[0] = '\0';
	if (header == NULL)
		return AUTH_MISSING;
	if (len < 7 || strncasecmp(header, "Bearer ", 7) != 0) {
		snprintf(why, size, "the Authorization header is not `Bearer TOKEN`");
		return AUTH_INVALID;
	}
	token = header + 7;
	len -= 7;
	while (len > 0 && *token == ' ')
		token++, len--;
	while (len > 0 && token[len - 1] == ' ')
		len--;
	if ((st = match_token(a, token, len)) != NULL) {
		snprintf(out->tenant, sizeof(out->tenant), "%s", st->tenant);
		out->run = out->jobs = true;
		return AUTH_OK;
	}
	if (a->n_keys > 0 && memchr(token, '.', len) != NULL)
		return check_jwt(a, token, len, out, why, size);
	snprintf(why, size, "unknown token");
	return AUTH_INVALID;
}

json_t *http_auth_metadata(const struct http_auth *a)
{
	json_t *servers = json_array();

	for (size_t i = 0; i < a->cfg.n_auth_servers; i++)
		json_array_append_new(servers, json_string(a->cfg.auth_servers[i]));
	return json_pack("{s:s?, s:o, s:[s, s], s:[s]}", "resource", a->cfg.resource,
			 "authorization_servers", servers, "scopes_supported", AUTH_SCOPE_RUN,
			 AUTH_SCOPE_JOBS, "bearer_methods_supported", "header");
}

/* ---- loading ---- */

int http_auth_reload(struct http_auth *a, struct pm_error *err)
{
	struct static_token *tokens = NULL;
	cjose_jwk_t *keys[KEYS_MAX];
	size_t n_tokens = 0, n_keys = 0;
	int r;

	if (a->cfg.tokens_file &&
	    (r = load_tokens(a->cfg.tokens_file, &tokens, &n_tokens, err)) < 0)
		return r;
	/* Once serving, keys by URL come from the thread pool. */
	bool by_url = a->cfg.jwks_file && jwks_is_url(a->cfg.jwks_file);
	if (a->cfg.jwks_file && !(by_url && a->refresh.loop) &&
	    (r = load_jwks(a->cfg.jwks_file, keys, &n_keys, err)) < 0) {
		free(tokens);
		return r;
	}
	free(a->tokens);
	a->tokens = tokens;
	a->n_tokens = n_tokens;
	if (by_url && a->refresh.loop)
		refresh_jwks(a, false);
	else if (a->cfg.jwks_file)
		set_keys(a, keys, n_keys);
	return 0;
}

void http_auth_start(struct http_auth *a, uv_loop_t *loop)
{
	struct jwks_refresh *f;

	if (a == NULL || a->cfg.jwks_file == NULL || !jwks_is_url(a->cfg.jwks_file))
		return;
	f = &a->refresh;
	f->loop = loop;
	f->last_ms = uv_now(loop); /* the fetch of http_auth_new() */
	uv_timer_init(loop, &f->timer);
	f->timer.data = a;
	uv_timer_start(&f->timer, on_refresh_timer, a->cfg.jwks_refresh_s * 1000,
		       a->cfg.jwks_refresh_s * 1000);
}

void http_auth_stop(struct http_auth *a)
{
	if (a == NULL || a->refresh.loop == NULL || a->refresh.stopped)
		return;
	/* A fetch under way ends on its own (within JWKS_FETCH_TIMEOUT);
	 * the loop waits for it, and its result is dropped. */
	a->refresh.stopped = true;
	uv_close((uv_handle_t *)&a->refresh.timer, NULL);
}

int http_auth_new(const struct http_auth_config *cfg, struct http_auth **out, struct pm_error *err)
{
	struct http_auth *a;
	int r;

	*out = NULL;
	if (cfg->tokens_file == NULL && cfg->jwks_file == NULL)
		return 0;
	if (cfg->jwks_file && cfg->issuer == NULL) {
		pm_error_set(err, "auth", EINVAL, "--auth-jwks needs --auth-issuer");
		return pm_error_hint(err, "give the authorization server's issuer URL, so that a "
					  "token of another issuer sharing these keys is refused");
	}
	if (cfg->jwks_file && jwks_is_url(cfg->jwks_file) &&
	    (r = jwks_url_check(cfg->jwks_file, err)) < 0)
		return r;
	if (cfg->jwks_file && cfg->audience == NULL) {
		pm_error_set(err, "auth", EINVAL, "--auth-jwks needs --auth-audience");
		return pm_error_hint(err, "RFC 8707: give this server's own URL, e.g. "
					  "https://mcp.example.org/mcp, so that a token minted "
					  "for another resource is refused");
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return pm_error_set(err, "auth", ENOMEM, "authorization");
	a->cfg = *cfg;
	if ((r = http_auth_reload(a, err)) < 0) {
		free(a);
		return r;
	}
	*out = a;
	return 0;
}

void http_auth_free(struct http_auth *a)
{
	if (a == NULL)
		return;
	free(a->tokens);
	release_keys(a->keys, a->n_keys);
	free(a);
}

bool http_auth_has_static_tenant(const struct http_auth *a, const char *tenant)
{
	for (size_t i = 0; a && i < a->n_tokens; i++)
		if (strcmp(a->tokens[i].tenant, tenant) == 0)
			return true;
	return false;
}
