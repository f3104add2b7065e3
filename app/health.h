/* GET /api/health: the service and its database. */
#ifndef TODOD_HEALTH_H
#define TODOD_HEALTH_H

struct request;

int health_get(struct request *r);

#endif
