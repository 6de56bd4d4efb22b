/* mcache.h - a scenario's trained matcher, kept between runs.
 *
 * Training the statistical matcher (model.h) and calibrating the debrief
 * on the training split (calib.h) take most of a catalog's load: about
 * 340 of the 393 ms (median) the eight scenarios took in `bench engine`
 * at d426869; reading and indexing them took about 53 of CPU. Both
 * results follow from three things only: the scenario's sources
 * (struct script's digest), its training split's bytes and the program
 * itself. So the catalog keeps them in a cache
 * folder under a key hashed from all three, and a later load with the
 * same three reads them back instead of training again. Change a script,
 * the corpus or the program, and the key changes: that load trains, and
 * writes the new result beside the scenario's others; the MCACHE_KEEP
 * last used of them are kept (two checkouts side by side each keep
 * theirs), older ones go.
 *
 * A cached file is checked before use: its header, a checksum over its
 * contents, and every count and index the running model follows
 * (model_read). Anything off, and the load trains as if there were no
 * file. A cache is never needed: without a folder, or when writing
 * fails, everything works as before, only slower.
 */
#ifndef OEF_MCACHE_H
#define OEF_MCACHE_H

#include <stddef.h>
#include <stdint.h>

struct script;

#define MCACHE_KEEP 4

struct mcache_key {
	uint64_t h[2];
};

/* The cache folder of the command line and the bot: $OEFENKAMER_CACHE
 * when set (empty or "uit": none), else $XDG_CACHE_HOME/oefenkamer,
 * else $HOME/.cache/oefenkamer; NULL for none. Caller frees. */
char *mcache_default_dir(void);

/* The key of s (loaded, not yet trained) with training split train
 * (len bytes): 0, or -1 when this program cannot identify itself
 * (/proc/self/exe unreadable), and then nothing may be cached. */
int mcache_key_of(const struct script *s, const char *train, size_t len,
		  struct mcache_key *k);

/* Read s's model and quiet table for k from dir into s (whose model
 * and quiet table are still unset). 0 on success; -1 when there is no
 * such file or it does not pass the checks (s is then unchanged). */
int mcache_load(const char *dir, const struct mcache_key *k,
		struct script *s);

/* Write s's model and quiet table under k into dir (made, mode 0700,
 * when missing), and remove the scenario's files beyond the
 * MCACHE_KEEP last used (a read counts as a use).
 * The file appears whole or not at all. 0, or -1 when it could not be
 * written (nothing else happens: the cache is never needed). */
int mcache_save(const char *dir, const struct mcache_key *k,
		const struct script *s);

/* The 128-bit hash the keys and checksums use (exposed for tests). */
void mcache_hash(const void *p, size_t n, uint64_t seed,
		 struct mcache_key *out);

#endif
