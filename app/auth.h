/* The /api/auth/... routes (Better Auth's email and password flow) and the
 * authentication of every other request by bearer token or cookie. */
#ifndef TODOD_AUTH_H
#define TODOD_AUTH_H

struct request;

/* Authenticates r (bearer wins over the cookie; never the query string)
 * and applies the CSRF origin check to cookie-authenticated unsafe
 * methods. Returns 0 with r->user_id set, or an error status recorded. */
int auth_require(struct request *r);

int auth_sign_up(struct request *r);
int auth_sign_in(struct request *r);
int auth_sign_out(struct request *r);
int auth_get_session(struct request *r);
int auth_token(struct request *r);
/* Account management (ROUTE_AUTH): Better Auth's routes and shapes. */
int auth_change_password(struct request *r);
int auth_update_user(struct request *r);
int auth_delete_user(struct request *r);
int auth_revoke_sessions(struct request *r);

#endif
