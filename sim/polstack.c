/* polstack.c - the run's policy behind its layers (see polstack.h).
 *
 * Owns the layer tables and instances; the engine calls only ops/state and
 * asks here for the checking layer's messages.
 */
#include "sim/polstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policies/layers/check.h"
#include "policies/layers/stats.h"
#include "policies/layers/tcache.h"

static void *host_alloc(void *st, size_t bytes)
{
    (void)st;
    return calloc(1, bytes);
}

static void host_free(void *st, void *p, size_t bytes)
{
    (void)st;
    (void)bytes;
    free(p);
}

const as_mem_t as_host_mem = {host_alloc, host_free, NULL};

int as_polstack_find(as_polstack_t *p, const as_policy_ops_t *ops,
                     const char *name, char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->policy = ops ? ops : name ? as_policy_find(name) : NULL;
    p->ops = p->policy;
    if (p->policy) return AS_OK;
    size_t off = (size_t)snprintf(
        err, cap, "unknown policy '%s'; valid:", name ? name : "");
    for (size_t i = 0; i < as_policy_count() && off < cap; i++)
        off += (size_t)snprintf(err + off, cap - off, " %s",
                                as_policy_at(i)->name);
    return AS_ENOTFOUND;
}

/* Put a layer made by wrap over the current outermost instance. */
static int add_layer(as_polstack_t *p,
                     int (*wrap)(const as_policy_ops_t *, void *,
                                 const as_mem_t *, as_policy_ops_t *, void **),
                     as_policy_ops_t *ops, const char *what, char *err,
                     size_t cap)
{
    void *st;
    int rc = wrap(p->ops, p->state, &as_host_mem, ops, &st);
    if (rc != AS_OK) {
        snprintf(err, cap, "policy %s: %s layer: %s", p->policy->name, what,
                 as_strerror(rc));
        return rc;
    }
    p->ops = ops;
    p->state = st;
    return AS_OK;
}

int as_polstack_create(as_polstack_t *p, const as_policy_config_t *pcfg,
                       const as_polstack_layers_t *layers, char *err,
                       size_t cap)
{
    int rc;
    char why[512];
    as_msg_t msg;
    as_msg_init(&msg, why, sizeof why);
    as_policy_config_t with_why = *pcfg;
    if (!with_why.why) with_why.why = &msg;
    const as_policy_config_t *cfg = &with_why;
    if (layers->check) {
        rc = as_check_wrap(p->policy, cfg, &as_host_mem, &p->check_ops,
                           &p->state);
        if (rc == AS_OK) {
            p->ops = &p->check_ops;
            p->check_state = p->state;
        }
    } else {
        rc = p->policy->create(cfg, &p->state);
    }
    if (rc != AS_OK) {
        if (cfg->why->len)
            snprintf(err, cap, "policy %s: %s", p->policy->name, cfg->why->buf);
        else
            snprintf(err, cap, "policy %s: create failed: %s", p->policy->name,
                     as_strerror(rc));
        p->state = NULL;
        return rc;
    }
    /* the cache's lists are the layer's metadata, not the policy's: host
     * memory, as the preload build keeps them outside the page source */
    if (layers->thread_cache &&
        (rc = add_layer(p, as_tcache_layer_wrap_instance, &p->tcache_ops,
                        "thread-cache", err, cap)) != AS_OK)
        return rc;
    if (layers->stats &&
        (rc = add_layer(p, as_stats_wrap_instance, &p->stats_ops, "statistics",
                        err, cap)) != AS_OK)
        return rc;
    return AS_OK;
}

void as_polstack_set_check_every(as_polstack_t *p, uint64_t every)
{
    if (p->check_state) as_check_set_period(p->check_state, every);
}

const char *as_polstack_check_error(const as_polstack_t *p)
{
    return p->check_state ? as_check_last_error(p->check_state) : "";
}

int as_polstack_close(as_polstack_t *p, char *err, size_t cap)
{
    if (!p->check_state || as_check_close(p->check_state) == AS_OK)
        return AS_OK;
    snprintf(err, cap, "policy %s: %s", p->ops->name,
             as_check_last_error(p->check_state));
    return AS_ECHECK;
}

void as_polstack_destroy(as_polstack_t *p)
{
    if (p->state) p->ops->destroy(p->state);
    p->state = NULL;
}
