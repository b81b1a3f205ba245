/* A small fixed pool of worker threads for the model's own kernels
 * (matrix products, attention, norms, log-softmax). A run hands out task
 * indices 0..n-1 to the caller's thread and the workers, and returns when
 * all are done. A
 * task's result must not depend on which thread runs it, so that these
 * kernels give the same output for any thread count.
 *
 * The pool is idle while OpenBLAS runs, and OpenBLAS is idle while the pool
 * runs, so the two never compete for the same cores.
 */
#ifndef CHEVAL_MODEL_POOL_H
#define CHEVAL_MODEL_POOL_H

typedef struct chv_pool chv_pool;

/* Called for each task; thread is in 0..n_threads-1 and indexes
 * per-thread scratch. */
typedef void (*chv_task_fn)(void *ctx, int task, int thread);

/* Starts n_threads - 1 workers (the caller is the last thread). Returns
 * NULL when a thread cannot be created. */
chv_pool *chv_pool_new(int n_threads);
void chv_pool_free(chv_pool *pool);
int chv_pool_threads(const chv_pool *pool);

/* Runs fn(ctx, task, thread) for task = 0..n_tasks-1 and waits for all. */
void chv_pool_run(chv_pool *pool, int n_tasks, chv_task_fn fn, void *ctx);

#endif
