/* data.h — byte-level text corpus: loading, training-batch packing, eval reading.
 *
 * Tokens are bytes (vocab 256). A corpus is a directory written by
 * scripts/get-corpus.sh (data/corpus: MANIFEST + train/ + heldout/), or any directory
 * of plain files (tests use /usr/share/common-licenses).
 *
 * Packing rule (data_next_batch): documents are visited in a seeded random order,
 * reshuffled each epoch, and laid end to end as one byte stream; rows of the (B,T)
 * batch take consecutive T-byte pieces of that stream, row 0 first, then the next
 * batch continues where this one stopped. Per position:
 *   tokens[t]   the byte
 *   targets[t]  the next byte of the *same* document; -1 at a document's last byte
 *               (never the first byte of the next document). A row that ends inside a
 *               document gets the real next byte (the first token of the next row).
 *   pos[t]      segment position: 0 at each document start and at each row start
 *               (a row carries no state from the previous row, so a document continued
 *               from the previous row starts a new segment), else pos[t-1] + 1.
 * The recurrence, conv and attention reset wherever pos == 0. No separator byte.
 *
 * The position in the stream is a cursor of DATA_CURSOR_N int64s (seed, epoch,
 * document index within the epoch's order, byte offset); saving it with a checkpoint
 * and restoring it reproduces the following batches exactly.
 */
#ifndef GRIFFIN_DATA_H
#define GRIFFIN_DATA_H

#include <stdint.h>
#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_docs;
    char **names;          /* path relative to the corpus directory, e.g. "heldout/emma.txt" */
    const uint8_t **doc;   /* doc[i] points to len[i] bytes inside blob */
    int64_t *len;
    int64_t total_bytes;
    uint8_t *blob;         /* one allocation holding every document */
} corpus_t;

/* Load the documents of `split` ("train", "heldout"; NULL or "" = all) from dir.
 * With dir/MANIFEST (lines "sha256 bytes split package path", '#' comments): the
 * listed files of that split, in manifest order; each file's size must match the
 * manifest (else: error, re-run scripts/get-corpus.sh). Without a manifest: the regular
 * files (symlinks followed) of dir/split when that is a directory, else of dir, sorted
 * by name, hidden files skipped. Empty files are skipped. Returns 0, or -1 with
 * util_error() (missing directory, no documents, unreadable file) and *c zeroed. */
int corpus_load(corpus_t *c, const char *dir, const char *split);
void corpus_free(corpus_t *c);

/* Keep (keep = 1) or drop (keep = 0) the documents named in names[n] (the
 * names as corpus_find matches them: "persuasion" finds
 * "heldout/persuasion.txt"), in place. Returns the number of documents
 * left; -1 with util_error() when none is left. */
int corpus_filter(corpus_t *c, const char *const *names, int n, int keep);

/* Index of the document whose name is `name`, or whose file name without directory
 * and extension is `name` ("emma" finds "heldout/emma.txt"); -1 when none. */
int corpus_find(const corpus_t *c, const char *name);

/* Eval reader: bytes [offset, offset+n) of one document, clipped at its end.
 * tokens[i] = byte, targets[i] = next byte or -1 at the document's end, pos[i] =
 * offset + i (absolute position in the document, so chunked evaluation with carried
 * state sees the true positions). targets or pos may be NULL. Returns the number of
 * positions written (0 when offset >= length), -1 on a bad document index/offset. */
int64_t corpus_read(const corpus_t *c, int doc, int64_t offset, int64_t n,
                    int32_t *tokens, int32_t *targets, int32_t *pos);

enum { DATA_CURSOR_N = 4 }; /* seed, epoch, index, offset */

typedef struct {
    const corpus_t *c;      /* borrowed; must outlive the loader */
    uint64_t seed;
    int64_t epoch, index, offset;
    int32_t *order;         /* (n_docs) document order of `epoch` */
} data_loader;

/* Start at epoch 0, first document. Returns 0, or -1 when the corpus is empty. */
int data_loader_init(data_loader *L, const corpus_t *c, uint64_t seed);
void data_loader_free(data_loader *L);

/* Fill tokens, targets, pos: (B,T) by the packing rule above and advance the cursor.
 * Any of targets/pos may be NULL. Never fails once the loader is initialised. */
void data_next_batch(data_loader *L, int B, int T, int32_t *tokens, int32_t *targets, int32_t *pos);

/* Cursor as int64s (for checkpoints): {seed, epoch, index, offset}. */
void data_get_cursor(const data_loader *L, int64_t cur[DATA_CURSOR_N]);
/* Restore a cursor (seed included). -1 with util_error() when it does not fit this
 * corpus (index or offset out of range, negative epoch); the loader is unchanged. */
int data_set_cursor(data_loader *L, const int64_t cur[DATA_CURSOR_N]);

#ifdef __cplusplus
}
#endif
#endif
