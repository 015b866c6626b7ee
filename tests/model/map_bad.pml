/*
 * map_bad.pml: the negative controls of map.pml. Each is map.pml with one step of
 * map/map.c reordered or dropped, chosen with -D; run.sh requires spin to report an
 * error for every one of them, so that map.pml passing means something:
 *   -DBAD_LINK_STORE    link_at publishes by a plain store: the link is not re-checked
 *                       (two inserts of a key both link: duplicate / lost node)
 *   -DBAD_RETIRE_EARLY  map_delete hands the node back before unlinking it
 *   -DBAD_NO_FALLBACK   unlink_marked gives up when its CAS fails (no find over the run)
 *   -DBAD_REPLACE_SPLIT map_replace links the new node, then marks the old one (2 CAS)
 *   -DBAD_SHORT_SCAN    find stops at the first node of the key's equal run
 *   -DBAD_GET_NO_MARK   map_get returns a matching node without checking its mark
 *                       (needs -DREADER=1)
 * The mutations are written in map.pml next to the step they change (#ifdef BAD_...).
 */
#if !defined(BAD_LINK_STORE) && !defined(BAD_RETIRE_EARLY) && !defined(BAD_NO_FALLBACK) && \
    !defined(BAD_REPLACE_SPLIT) && !defined(BAD_SHORT_SCAN) && !defined(BAD_GET_NO_MARK)
#error "map_bad.pml: pass one of -DBAD_LINK_STORE, -DBAD_RETIRE_EARLY, -DBAD_NO_FALLBACK, -DBAD_REPLACE_SPLIT, -DBAD_SHORT_SCAN, -DBAD_GET_NO_MARK"
#endif
#include "map.pml"
