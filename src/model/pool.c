#include "model/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct chv_pool {
    int n_threads;
    pthread_t *workers;

    pthread_mutex_t lock;
    pthread_cond_t start; /* signalled when a new run (generation) begins */
    pthread_cond_t done;  /* signalled when the last worker leaves a run */
    unsigned long generation;
    int busy_workers;
    int stopping;

    /* The current run. */
    chv_task_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next_task;
};

typedef struct worker_arg {
    chv_pool *pool;
    int thread;
} worker_arg;

/* Takes task indices until none are left. */
static void drain(chv_pool *pool, int thread) {
    for (;;) {
        int task = atomic_fetch_add(&pool->next_task, 1);
        if (task >= pool->n_tasks)
            return;
        pool->fn(pool->ctx, task, thread);
    }
}

static void *worker_main(void *p) {
    worker_arg arg = *(worker_arg *)p;
    free(p);
    chv_pool *pool = arg.pool;
    unsigned long seen = 0;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->generation == seen && !pool->stopping)
            pthread_cond_wait(&pool->start, &pool->lock);
        if (pool->stopping)
            break;
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);

        drain(pool, arg.thread);

        pthread_mutex_lock(&pool->lock);
        if (--pool->busy_workers == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

chv_pool *chv_pool_new(int n_threads) {
    chv_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->n_threads = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->start, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->next_task, 0);

    int n_workers = pool->n_threads - 1;
    pool->workers = calloc((size_t)(n_workers > 0 ? n_workers : 1), sizeof *pool->workers);
    if (pool->workers == NULL) {
        free(pool);
        return NULL;
    }
    for (int i = 0; i < n_workers; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (arg != NULL) {
            arg->pool = pool;
            arg->thread = i + 1;
        }
        if (arg == NULL || pthread_create(&pool->workers[i], NULL, worker_main, arg) != 0) {
            free(arg);
            pool->n_threads = i + 1; /* keep the workers that started */
            chv_pool_free(pool);
            return NULL;
        }
    }
    return pool;
}

void chv_pool_free(chv_pool *pool) {
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->n_threads - 1; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->start);
    pthread_cond_destroy(&pool->done);
    free(pool->workers);
    free(pool);
}

int chv_pool_threads(const chv_pool *pool) {
    return pool->n_threads;
}

void chv_pool_run(chv_pool *pool, int n_tasks, chv_task_fn fn, void *ctx) {
    if (n_tasks <= 0)
        return;
    /* One task, or no workers: waking threads would cost more than it saves. */
    if (pool->n_threads == 1 || n_tasks == 1) {
        for (int task = 0; task < n_tasks; task++)
            fn(ctx, task, 0);
        return;
    }

    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_tasks = n_tasks;
    atomic_store(&pool->next_task, 0);
    pool->busy_workers = pool->n_threads - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);

    drain(pool, 0);

    pthread_mutex_lock(&pool->lock);
    while (pool->busy_workers > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}
