/* Counts heap allocations of the whole benchmark process.
 *
 * The executable defines malloc and its siblings, so the dynamic linker
 * binds every call to them, from our code, libicelab.a and the shared
 * libraries alike (libnice, GnuTLS, OpenSSL), to these definitions; each
 * counts and forwards to glibc's own allocator through its exported
 * __libc_* entry points. Every allocation function is replaced, so a block
 * is always freed by the allocator that made it. --wrap=malloc would only
 * see the calls of the objects linked statically, not libnice's. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

/* A sanitizer brings its own malloc; counting is then off (reported as
 * "-"), since defining malloc here would fight it. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_NO_ALLOC_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define BENCH_NO_ALLOC_COUNT 1
#endif
#endif

#ifdef BENCH_NO_ALLOC_COUNT

bool bench_alloc_counting(void)
{
	return false;
}

uint64_t bench_alloc_count(void)
{
	return 0;
}

#else

bool bench_alloc_counting(void)
{
	return true;
}

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *ptr);

static uint64_t alloc_calls;

static void count(void)
{
	__atomic_fetch_add(&alloc_calls, 1, __ATOMIC_RELAXED);
}

uint64_t bench_alloc_count(void)
{
	return __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
}

void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

void *calloc(size_t nmemb, size_t size)
{
	count();
	return __libc_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
	count();
	return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
	__libc_free(ptr);
}

void *memalign(size_t alignment, size_t size)
{
	count();
	return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
	count();
	return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
	if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
		return EINVAL;
	count();
	void *p = __libc_memalign(alignment, size);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

#endif
