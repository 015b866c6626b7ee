/*
 * reclaim_bad.pml: the negative controls of reclaim.pml. Each is reclaim.pml with one
 * step reordered or dropped, chosen with -D; run.sh requires spin to report an error
 * for every one of them, so that reclaim.pml passing means something:
 *   -DBAD_ANNOUNCE_AFTER_LOAD  the reader loads the bucket's first link before
 *                              ck_epoch_begin announces it (hotcache.c:lookup order)
 *   -DBAD_RETIRE_BEFORE_UNLINK evict retires the entry after marking it but before the
 *                              unlink (policy.c:evict / map_delete_node order)
 *   -DBAD_NO_POLL_MU           reclaim_poll skips the poll_mu trylock (reclaim.c)
 *   -DBAD_ONE_EPOCH            ck_epoch_poll frees bin epoch instead of epoch-1 after
 *                              advancing (a one-epoch grace period)
 * The mutations are written in reclaim.pml next to the step they change.
 */
#if !defined(BAD_ANNOUNCE_AFTER_LOAD) && !defined(BAD_RETIRE_BEFORE_UNLINK) && \
    !defined(BAD_NO_POLL_MU) && !defined(BAD_ONE_EPOCH)
#error "reclaim_bad.pml: pass one of -DBAD_ANNOUNCE_AFTER_LOAD, -DBAD_RETIRE_BEFORE_UNLINK, -DBAD_NO_POLL_MU, -DBAD_ONE_EPOCH"
#endif
#include "reclaim.pml"
