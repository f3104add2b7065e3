/* The one route table of the service. */
#ifndef TODOD_ROUTES_H
#define TODOD_ROUTES_H

#include <stddef.h>

#include "router.h"

const struct route *routes_table(void);
size_t routes_count(void);

#endif
