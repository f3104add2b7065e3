/* Better Auth-compatible email/password routes and request authentication
 * by bearer token or session cookie, with the CSRF origin checks. */
#include "auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>
#include <unicase.h>

#include "arena.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "metrics.h"
#include "password.h"
#include "revoke.h"
#include "store.h"
#include "util.h"

#define EMAIL_MAX STORE_EMAIL_MAX
#define NAME_MAX_CHARS STORE_NAME_MAX
#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_CHARS 128

static const char *cookie_name(const struct config *cfg);
static int find_token(struct request *r, const char **ret, size_t *ret_len);
static int authenticate(struct request *r, struct jwt_claims *ret_claims);
static bool origin_ok(struct request *r);
static int login_csrf(struct request *r);
static void user_json(struct jbuf *b, const struct store_user *u);
static int issue(struct request *r, const char *sub, char **ret_token);
static void set_cookie(struct request *r, const char *token);
static int normalize_email(struct request *r, const char *s, size_t len,
			   char *out, size_t *out_len);
static int signed_in(struct request *r, int status, bool redirect,
		     const struct store_user *u);
static const unsigned char *token_key(const struct jwt_claims *c,
				      unsigned char bytes[16],
				      long long *ret_units);
static int new_password(struct request *r, struct json_object *body,
			const char *field, const char **ret, size_t *ret_len);
static int check_name(struct request *r, struct json_object *body,
		      const char **ret, size_t *ret_len);
static int current_user(struct request *r, struct store_user *u);
static int account_gone(struct request *r);
static int hash_password(struct request *r, const char *pw, size_t len,
			 char ret_hash[PASSWORD_HASH_LEN + 1]);
static int password_check(struct request *r, const char *pw, size_t len,
			  const char *hash);
static long long revocation_expiry(const struct request *r);
static int busy(struct request *r);

static const char *
cookie_name(const struct config *cfg)
{
	return cfg->cookie_secure ? "__Host-todod_session" : "todod_session";
}

/* Finds the credential: a Bearer header wins over the cookie. Returns 1
 * with the token, 0 when there is none. */
static int
find_token(struct request *r, const char **ret, size_t *ret_len)
{
	const char *auth = http_param(r, "HTTP_AUTHORIZATION");
	const char *cookies = http_param(r, "HTTP_COOKIE");
	const char *name = cookie_name(r->cfg);
	size_t nlen = strlen(name);

	if (auth && strncasecmp(auth, "Bearer", 6) == 0 &&
	    (auth[6] == ' ' || auth[6] == '\t')) {
		const char *t = auth + 7;
		size_t len;

		while (*t == ' ' || *t == '\t')
			t++;
		len = strlen(t);
		while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
			len--;
		r->token_presented = true;
		*ret = t;
		*ret_len = len;
		return 1;
	}
	for (const char *c = cookies; c && *c;) {
		const char *end = strchr(c, ';');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		const char *v = c;

		while (len > 0 && *v == ' ') {
			v++;
			len--;
		}
		if (len > nlen && memcmp(v, name, nlen) == 0 &&
		    v[nlen] == '=' && len - nlen - 1 > 0) {
			r->token_presented = true;
			r->via_cookie = true;
			*ret = v + nlen + 1;
			*ret_len = len - nlen - 1;
			return 1;
		}
		c = end ? end + 1 : NULL;
	}
	return 0;
}

/* The revocation key of verified claims: the jti's bytes (NULL when the
 * token has none) and the token's time in revoke.h's units (a token
 * without a jti counts from the start of its iat second). */
static const unsigned char *
token_key(const struct jwt_claims *c, unsigned char bytes[16],
	  long long *ret_units)
{
	if (c->jti[0] && jwt_jti_parse(c->jti, bytes, ret_units) == 0)
		return bytes;
	*ret_units = c->iat * 1000 * 4096;
	return NULL;
}

/* 0 with the claims of a valid token that is not revoked, 401 recorded
 * otherwise. The revocations are this process's set in memory: no
 * database read. */
static int
authenticate(struct request *r, struct jwt_claims *ret_claims)
{
	const char *tok = NULL;
	unsigned char jti[16];
	const unsigned char *key;
	size_t len = 0;
	long long uid, units;

	if (!find_token(r, &tok, &len))
		return http_error(r, 401, "Authentication is required.", NULL);
	if (jwt_verify(&r->cfg->jwt, tok, len, time(NULL), ret_claims) < 0 ||
	    parse_id(ret_claims->sub, strlen(ret_claims->sub), &uid) < 0)
		return http_error(r, 401, "The token is invalid or expired.",
				  NULL);
	key = token_key(ret_claims, jti, &units);
	if (revoke_check(uid, key, units))
		return http_error(r, 401, "The token has been revoked.", NULL);
	r->user_id = uid;
	return 0;
}

/* The request's Origin, or the origin part of its Referer, is ours or a
 * trusted one. Absent both, false. */
static bool
origin_ok(struct request *r)
{
	const char *o = http_param(r, "HTTP_ORIGIN");
	const char *ref;

	if (o && *o)
		return config_origin_allowed(r->cfg, o, strlen(o));
	ref = http_param(r, "HTTP_REFERER");
	if (ref && *ref) {
		const char *host = strstr(ref, "://");
		const char *slash = host ? strchr(host + 3, '/') : NULL;
		size_t len = slash ? (size_t)(slash - ref) : strlen(ref);

		return host && config_origin_allowed(r->cfg, ref, len);
	}
	return false;
}

/* Login CSRF: a foreign Origin/Referer or Sec-Fetch-Site: cross-site is
 * refused; a request with none of them (curl, a server) passes. */
static int
login_csrf(struct request *r)
{
	const char *o = http_param(r, "HTTP_ORIGIN");
	const char *ref = http_param(r, "HTTP_REFERER");
	const char *site = http_param(r, "HTTP_SEC_FETCH_SITE");

	if ((site && strcasecmp(site, "cross-site") == 0) ||
	    (((o && *o) || (ref && *ref)) && !origin_ok(r)))
		return http_invalid_origin(r);
	return 0;
}

int
auth_require(struct request *r)
{
	struct jwt_claims claims;
	int status = authenticate(r, &claims);

	if (status)
		return status;
	if (r->via_cookie && r->method != HTTP_GET && r->method != HTTP_HEAD &&
	    r->method != HTTP_OPTIONS && !origin_ok(r))
		return http_invalid_origin(r);
	return 0;
}

static void
user_json(struct jbuf *b, const struct store_user *u)
{
	char ts[TIME_STR_LEN + 1];

	jb_lit(b, "{\"id\":\"");
	jb_int(b, u->id);
	jb_lit(b, "\",\"email\":");
	jb_str(b, u->email, u->email_len);
	jb_lit(b, ",\"name\":");
	jb_str(b, u->name, u->name_len);
	jb_lit(b, u->email_verified ? ",\"emailVerified\":true"
				    : ",\"emailVerified\":false");
	time_format(u->created_ms, ts);
	jb_lit(b, ",\"createdAt\":\"");
	jb_lit(b, ts);
	time_format(u->updated_ms, ts);
	jb_lit(b, "\",\"updatedAt\":\"");
	jb_lit(b, ts);
	jb_lit(b, "\"}");
}

/* A new token for sub; its jti is a UUIDv7 of revoke_clock(), so it
 * sorts after every revocation this process has made. */
static int
issue(struct request *r, const char *sub, char **ret_token)
{
	unsigned char rnd[8];
	char jti[JWT_JTI_LEN + 1], *tok = NULL;
	int rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		log_error(r->reqid, "getrandom failed");
		return http_internal(r);
	}
	jwt_jti_format(revoke_clock(), rnd, jti);
	rc = jwt_sign(&r->cfg->jwt, sub, jti, time(NULL), &tok);

	if (rc < 0) {
		log_error(r->reqid, "jwt_sign failed: %d", rc);
		return http_internal(r);
	}
	*ret_token = arena_strdup(r->arena, tok);
	free(tok);
	if (!*ret_token)
		return http_internal(r);
	return 0;
}

static void
set_cookie(struct request *r, const char *token)
{
	const char *v;

	if (token)
		v = arena_printf(
			r->arena,
			"%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
			cookie_name(r->cfg), token, r->cfg->jwt_ttl,
			r->cfg->cookie_secure ? "; Secure" : "");
	else
		v = arena_printf(
			r->arena,
			"%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
			cookie_name(r->cfg),
			r->cfg->cookie_secure ? "; Secure" : "");
	if (v)
		http_header(r, "Set-Cookie", v);
}

/* Trims and lower-cases (full Unicode, as JavaScript's toLowerCase does
 * for Better Auth) into out[EMAIL_MAX + 1]. Returns 0, or -EINVAL when the
 * result is empty or longer than EMAIL_MAX bytes. */
static int
lower_email(const char *s, size_t len, char *out, size_t *out_len)
{
	uint8_t *low;
	size_t n = len, low_len = EMAIL_MAX + 1;

	s = str_trim(s, &n);
	if (n == 0 || n > EMAIL_MAX * 4)
		return -EINVAL;
	/* u8_tolower writes into out when the result fits, else mallocs. */
	low = u8_tolower((const uint8_t *)s, n, NULL, NULL, (uint8_t *)out,
			 &low_len);
	if (!low)
		return -EINVAL;
	if (low != (uint8_t *)out) {
		free(low);
		return -EINVAL;
	}
	if (low_len == 0 || low_len > EMAIL_MAX)
		return -EINVAL;
	out[low_len] = '\0';
	*out_len = low_len;
	return 0;
}

/* Normalises (lower_email) and checks a plausible address shape:
 * local@domain, no spaces or controls, a dot inside the domain. */
static int
normalize_email(struct request *r, const char *in, size_t len, char *out,
		size_t *out_len)
{
	const char *at = NULL, *s = out;
	size_t n;

	if (lower_email(in, len, out, &n) < 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == ',' || c == ';' || c == '<' ||
		    c == '>' || c == '(' || c == ')' || c == '[' || c == ']' ||
		    c == '\\' || c == '"')
			goto bad;
		if (c == '@') {
			if (at)
				goto bad;
			at = s + i;
		}
	}
	if (!at || at == s || at - s > 64 || (size_t)(at - s) + 1 >= n)
		goto bad;
	{
		const char *dom = at + 1, *end = s + n;
		const char *dot = memchr(dom, '.', (size_t)(end - dom));

		if (!dot || dom[0] == '.' || end[-1] == '.' ||
		    strstr(out, ".."))
			goto bad;
	}
	*out_len = n;
	return 0;
bad:
	return http_error(
		r, 422,
		"email must be a valid email address of at most 254 bytes.",
		"email");
}

/* Every password slot and waiting place is taken: shed the request rather
 * than tie up another worker. */
static int
busy(struct request *r)
{
	metrics_signin_shed();
	r->hold_ms = (int)r->cfg->shed_delay_ms;
	http_header(r, "Retry-After", "1");
	return http_error(
		r, 429,
		"Too many sign-ins are being processed; try again shortly.",
		NULL);
}

/* The answer of sign-up (201) and sign-in (200): a new token, the cookie,
 * and {"token", "user"} (sign-in adds Better Auth's "redirect": false). */
static int
signed_in(struct request *r, int status, bool redirect,
	  const struct store_user *u)
{
	char *token = NULL, sub[24];
	struct jbuf b;
	int rc;

	snprintf(sub, sizeof(sub), "%lld", u->id);
	if ((rc = issue(r, sub, &token)))
		return rc;
	set_cookie(r, token);
	jb_init(&b, r->arena, 1024);
	jb_lit(&b, redirect ? "{\"redirect\":false,\"token\":" : "{\"token\":");
	jb_cstr(&b, token);
	jb_lit(&b, ",\"user\":");
	user_json(&b, u);
	jb_lit(&b, "}");
	return http_body_jbuf(r, status, &b);
}

/* The body's field holding a new password: 8 to 128 characters, not on
 * the list of common passwords. 0 or a recorded 422. */
static int
new_password(struct request *r, struct json_object *body, const char *field,
	     const char **ret, size_t *ret_len)
{
	struct json_object *v;
	const char *pw;
	size_t len;
	long count;
	int rc;

	if (!json_object_object_get_ex(body, field, &v))
		return http_error(
			r, 422,
			arena_printf(r->arena, "%s is required.", field),
			field);
	if ((rc = http_json_string(r, v, field, &pw, &len)))
		return rc;
	count = utf8_count(pw, len);
	if (count < PASSWORD_MIN_CHARS || count > PASSWORD_MAX_CHARS)
		return http_error(
			r, 422,
			arena_printf(r->arena,
				     "%s must be 8 to 128 characters.", field),
			field);
	if (password_is_common(pw, len))
		return http_error(
			r, 422,
			arena_printf(r->arena,
				     "%s is too common: it is on a "
				     "list of passwords that attackers "
				     "try first. Choose another.",
				     field),
			field);
	*ret = pw;
	*ret_len = len;
	return 0;
}

/* Hashes a new password: 0, or a recorded 429 (every hashing slot and
 * waiting place taken) or 500. */
static int
hash_password(struct request *r, const char *pw, size_t len,
	      char ret_hash[PASSWORD_HASH_LEN + 1])
{
	int rc = password_hash(pw, len, ret_hash);

	if (rc == -EBUSY)
		return busy(r);
	if (rc < 0) {
		log_error(r->reqid, "password_hash failed: %d", rc);
		return http_internal(r);
	}
	return 0;
}

/* The body's name: 1 to 100 characters after trimming. */
static int
check_name(struct request *r, struct json_object *body, const char **ret,
	   size_t *ret_len)
{
	struct json_object *v;
	const char *name;
	size_t len;
	long count;
	int rc;

	if (!json_object_object_get_ex(body, "name", &v))
		return http_error(r, 422, "name is required.", "name");
	if ((rc = http_json_string(r, v, "name", &name, &len)))
		return rc;
	name = str_trim(name, &len);
	count = utf8_count(name, len);
	if (count < 1 || count > NAME_MAX_CHARS)
		return http_error(r, 422, "name must be 1 to 100 characters.",
				  "name");
	*ret = name;
	*ret_len = len;
	return 0;
}

int
auth_sign_up(struct request *r)
{
	static const char *const allowed[] = {"name", "email", "password",
					      "callbackURL", NULL};
	struct json_object *body = NULL, *v;
	const char *name = NULL, *email = NULL, *pw = NULL, *s;
	size_t name_len = 0, email_len = 0, pw_len = 0, slen;
	char email_norm[EMAIL_MAX + 1], hash[PASSWORD_HASH_LEN + 1];
	struct store_user u;
	int rc;

	if ((rc = login_csrf(r)) || (rc = http_read_json(r, &body)) ||
	    (rc = http_json_known(r, body, allowed)))
		return rc;
	if (json_object_object_get_ex(body, "callbackURL", &v) &&
	    (rc = http_json_string(r, v, "callbackURL", &s, &slen)))
		return rc;
	if ((rc = check_name(r, body, &name, &name_len)))
		return rc;
	if (!json_object_object_get_ex(body, "email", &v))
		return http_error(r, 422, "email is required.", "email");
	if ((rc = http_json_string(r, v, "email", &email, &email_len)) ||
	    (rc = normalize_email(r, email, email_len, email_norm, &email_len)))
		return rc;
	if ((rc = new_password(r, body, "password", &pw, &pw_len)) ||
	    (rc = hash_password(r, pw, pw_len, hash)))
		return rc;
	rc = store_user_insert(r->db, r->reqid, email_norm, email_len, name,
			       name_len, hash, time_now_ms(), &u);
	if (rc == -EEXIST)
		return http_user_exists(r);
	if (rc < 0)
		return http_from_errno(r, rc);
	return signed_in(r, 201, false, &u);
}

int
auth_sign_in(struct request *r)
{
	static const char *const allowed[] = {"email", "password", "rememberMe",
					      "callbackURL", NULL};
	struct json_object *body = NULL, *v;
	const char *email = NULL, *pw = NULL, *s;
	size_t email_len = 0, pw_len = 0, slen, n;
	char email_norm[EMAIL_MAX + 1];
	struct store_user u;
	bool found = false, too_long = false;
	int rc;

	if ((rc = login_csrf(r)) || (rc = http_read_json(r, &body)) ||
	    (rc = http_json_known(r, body, allowed)))
		return rc;
	if (json_object_object_get_ex(body, "rememberMe", &v) &&
	    !json_object_is_type(v, json_type_boolean))
		return http_error(r, 422, "rememberMe must be a boolean.",
				  "rememberMe");
	if (json_object_object_get_ex(body, "callbackURL", &v) &&
	    (rc = http_json_string(r, v, "callbackURL", &s, &slen)))
		return rc;
	if (!json_object_object_get_ex(body, "email", &v))
		return http_error(r, 422, "email is required.", "email");
	if ((rc = http_json_string(r, v, "email", &email, &email_len)))
		return rc;
	if (!json_object_object_get_ex(body, "password", &v))
		return http_error(r, 422, "password is required.", "password");
	if ((rc = http_json_string(r, v, "password", &pw, &pw_len)))
		return rc;
	/* A password longer than any that can be registered never matches;
	 * it still costs one hash of bounded length, like a wrong one. */
	if (utf8_count(pw, pw_len) > PASSWORD_MAX_CHARS) {
		too_long = true;
		if (pw_len > PASSWORD_MAX_CHARS * 4)
			pw_len = PASSWORD_MAX_CHARS * 4;
	}

	/* The hash's place is taken before the lookup: a sign-in that would
	 * be shed costs no query (a flood's cost stays at parsing it). A
	 * place left unused goes back when the request ends (worker.c). */
	if (password_reserve() == -EBUSY)
		return busy(r);
	/* An address that cannot exist is looked up like any other: the
	 * answer and its timing stay those of a wrong password. */
	if (lower_email(email, email_len, email_norm, &n) == 0) {
		rc = store_user_by_email(r->db, r->reqid, email_norm, n, &u);
		if (rc < 0)
			return http_from_errno(r, rc);
		found = rc == 1;
	}
	rc = password_verify(pw, pw_len, found && !too_long ? u.hash : NULL);
	if (rc == -EBUSY)
		return busy(r);
	if (rc == -ENOMEM || rc == -EIO) {
		log_error(r->reqid, "password_verify failed: %d", rc);
		return http_internal(r);
	}
	if (rc != 0 || !found)
		return http_bad_login(r);

	return signed_in(r, 200, true, &u);
}

/* How long a revocation made now matters: until every token issued
 * before it has expired, clock skew included. */
static long long
revocation_expiry(const struct request *r)
{
	return time_now_ms() + (r->cfg->jwt_ttl + r->cfg->jwt_skew) * 1000;
}

int
auth_sign_out(struct request *r)
{
	static const char ok[] = "{\"success\":true}";
	struct jwt_claims claims;
	unsigned char jti[16];
	const char *tok;
	size_t len;
	int rc;

	/* A cookie-carrying sign-out from a foreign page is refused, so no
	 * other site can log the user out. */
	if (find_token(r, &tok, &len) && r->via_cookie && !origin_ok(r))
		return http_invalid_origin(r);
	set_cookie(r, NULL);
	/* The presented token, when valid, stops working everywhere; the
	 * user's other tokens do not. A token without a jti (none of ours)
	 * can only be ended by revoke-sessions. */
	if (authenticate(r, &claims) == 0 && claims.jti[0] &&
	    jwt_jti_parse(claims.jti, jti, &(long long){0}) == 0) {
		long long cutoff = revoke_clock();
		long long expires = (claims.exp + r->cfg->jwt_skew) * 1000;

		rc = store_revocation_add(r->db, r->reqid, r->user_id, jti,
					  cutoff, expires);
		if (rc < 0)
			return http_from_errno(r, rc);
		revoke_add(r->user_id, jti, cutoff, expires);
	}
	r->err_code = r->err_message = r->err_field = NULL;
	return http_body(r, 200, ok, sizeof(ok) - 1);
}

int
auth_get_session(struct request *r)
{
	struct jwt_claims claims;
	char ts[TIME_STR_LEN + 1];
	struct store_user u;
	struct jbuf b;
	int rc;

	if (authenticate(r, &claims) != 0) {
		r->err_code = r->err_message = NULL;
		return http_body(r, 200, "null", 4);
	}
	rc = store_user_by_id(r->db, r->reqid, r->user_id, &u);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return http_body(r, 200, "null", 4);
	time_format(claims.exp * 1000, ts);
	jb_init(&b, r->arena, 1024);
	jb_lit(&b, "{\"session\":{\"expiresAt\":\"");
	jb_lit(&b, ts);
	jb_lit(&b, "\"},\"user\":");
	user_json(&b, &u);
	jb_lit(&b, "}");
	return http_body_jbuf(r, 200, &b);
}

int
auth_token(struct request *r)
{
	struct jwt_claims claims;
	char *token = NULL;
	struct jbuf b;
	int rc;

	if ((rc = authenticate(r, &claims)))
		return rc;
	/* Minting from a token this process has not yet heard was revoked
	 * would undo the revocation: this route alone asks the table. */
	{
		unsigned char jti[16];
		long long units;
		const unsigned char *key = token_key(&claims, jti, &units);

		rc = store_revocation_check(r->db, r->reqid, r->user_id, key,
					    units, time_now_ms());
		if (rc < 0)
			return http_from_errno(r, rc);
		if (rc > 0)
			return http_error(r, 401, "The token has been revoked.",
					  NULL);
	}
	if ((rc = issue(r, claims.sub, &token)))
		return rc;
	jb_init(&b, r->arena, 512);
	jb_lit(&b, "{\"token\":");
	jb_cstr(&b, token);
	jb_lit(&b, "}");
	return http_body_jbuf(r, 200, &b);
}

/* A valid token whose user has been deleted. */
static int
account_gone(struct request *r)
{
	r->token_presented = true;
	return http_error(r, 401, "The account of this token no longer exists.",
			  NULL);
}

/* The authenticated caller's row: 0 with *u, or a recorded error (401
 * when the account no longer exists). */
static int
current_user(struct request *r, struct store_user *u)
{
	int rc = store_user_by_id(r->db, r->reqid, r->user_id, u);

	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return account_gone(r);
	return 0;
}

/* pw against the stored hash, at a sign-in's cost: 0 on a match, or a
 * recorded 401 INVALID_EMAIL_OR_PASSWORD (429, 500). */
static int
password_check(struct request *r, const char *pw, size_t len, const char *hash)
{
	int rc;

	if (utf8_count(pw, len) > PASSWORD_MAX_CHARS)
		return http_bad_login(r);
	rc = password_verify(pw, len, hash);
	if (rc == -EBUSY)
		return busy(r);
	if (rc == -ENOMEM || rc == -EIO) {
		log_error(r->reqid, "password_verify failed: %d", rc);
		return http_internal(r);
	}
	return rc == 0 ? 0 : http_bad_login(r);
}

int
auth_change_password(struct request *r)
{
	static const char *const allowed[] = {"currentPassword", "newPassword",
					      "revokeOtherSessions", NULL};
	struct json_object *body = NULL, *v;
	const char *cur = NULL, *pw = NULL;
	size_t cur_len = 0, pw_len = 0;
	char hash[PASSWORD_HASH_LEN + 1];
	struct store_user u;
	long long cutoff, now;
	int rc;

	if ((rc = http_read_json(r, &body)) ||
	    (rc = http_json_known(r, body, allowed)))
		return rc;
	if (json_object_object_get_ex(body, "revokeOtherSessions", &v) &&
	    !json_object_is_type(v, json_type_boolean))
		return http_error(r, 422,
				  "revokeOtherSessions must be a boolean.",
				  "revokeOtherSessions");
	if (!json_object_object_get_ex(body, "currentPassword", &v))
		return http_error(r, 422, "currentPassword is required.",
				  "currentPassword");
	if ((rc = http_json_string(r, v, "currentPassword", &cur, &cur_len)) ||
	    (rc = new_password(r, body, "newPassword", &pw, &pw_len)) ||
	    (rc = current_user(r, &u)) ||
	    (rc = password_check(r, cur, cur_len, u.hash)) ||
	    (rc = hash_password(r, pw, pw_len, hash)))
		return rc;
	/* Every token issued before now stops working, whatever
	 * revokeOtherSessions says: after a leak, the attacker's too. */
	now = time_now_ms();
	cutoff = revoke_clock();
	rc = store_user_set_password(r->db, r->reqid, r->user_id, u.hash, hash,
				     now, cutoff, revocation_expiry(r));
	if (rc == -ECANCELED)
		/* Another change won: this current password is no longer. */
		return http_bad_login(r);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return current_user(r, &u);
	revoke_add(r->user_id, NULL, cutoff, revocation_expiry(r));
	u.updated_ms = now;
	return signed_in(r, 200, false, &u);
}

int
auth_update_user(struct request *r)
{
	static const char ok[] = "{\"status\":true}";
	static const char *const allowed[] = {"name", NULL};
	struct json_object *body = NULL;
	const char *name = NULL;
	size_t len = 0;
	int rc;

	if ((rc = http_read_json(r, &body)) ||
	    (rc = http_json_known(r, body, allowed)) ||
	    (rc = check_name(r, body, &name, &len)))
		return rc;
	rc = store_user_rename(r->db, r->reqid, r->user_id, name, len,
			       time_now_ms());
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return account_gone(r);
	return http_body(r, 200, ok, sizeof(ok) - 1);
}

int
auth_delete_user(struct request *r)
{
	static const char ok[] =
		"{\"success\":true,\"message\":\"User deleted\"}";
	static const char *const allowed[] = {"password", "callbackURL", NULL};
	struct json_object *body = NULL, *v;
	const char *pw = NULL, *s;
	size_t len = 0, slen;
	struct store_user u;
	long long cutoff;
	int rc;

	if ((rc = http_read_json(r, &body)) ||
	    (rc = http_json_known(r, body, allowed)))
		return rc;
	if (json_object_object_get_ex(body, "callbackURL", &v) &&
	    (rc = http_json_string(r, v, "callbackURL", &s, &slen)))
		return rc;
	if (!json_object_object_get_ex(body, "password", &v))
		return http_error(r, 422, "password is required.", "password");
	if ((rc = http_json_string(r, v, "password", &pw, &len)) ||
	    (rc = current_user(r, &u)) ||
	    (rc = password_check(r, pw, len, u.hash)))
		return rc;
	cutoff = revoke_clock();
	rc = store_user_delete(r->db, r->reqid, r->user_id, cutoff,
			       revocation_expiry(r));
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return current_user(r, &u);
	revoke_add(r->user_id, NULL, cutoff, revocation_expiry(r));
	set_cookie(r, NULL);
	return http_body(r, 200, ok, sizeof(ok) - 1);
}

int
auth_revoke_sessions(struct request *r)
{
	static const char ok[] = "{\"status\":true}";
	long long cutoff = revoke_clock();
	int rc;

	rc = store_revocation_add(r->db, r->reqid, r->user_id, NULL, cutoff,
				  revocation_expiry(r));
	if (rc < 0)
		return http_from_errno(r, rc);
	revoke_add(r->user_id, NULL, cutoff, revocation_expiry(r));
	set_cookie(r, NULL);
	return http_body(r, 200, ok, sizeof(ok) - 1);
}
