/*
 * native_mixer: the N-1 mix kernel as an N-API addon (C, node_api.h only).
 *
 *   sum[j]       = Σ inputs[i][j]  over i < count with active[i] != 0
 *   outputs[i][j] = saturate16(sum[j] - (active[i] ? inputs[i][j] : 0))
 *
 * This is the contract of MixKernel in src/mixer/kernel/kernel.ts; the
 * TypeScript kernel and this one must give bit-identical outputs
 * (test/mixer.test.mjs checks every variant against a plain JS reference).
 *
 * Sections, in order:
 *   1. Limits and the per-variant kernels (scalar, SSE2, AVX2)
 *   2. Per-thread instance data (grow-only scratch, no malloc per call)
 *   3. Argument validation and the N-API entry point
 *   4. Module init: CPU dispatch and exports
 *
 * Overflow: count is capped at MAX_COUNT = 65536, so the 32-bit sum holds
 * 65536 × (-32768) = INT32_MIN at worst and never wraps; sum minus own is a
 * sum of at most 65535 inputs, which does not wrap either. Saturation is
 * therefore exact, the same as the TypeScript clamp to [-32768, 32767].
 *
 * Aliasing: outputs are written listener by listener, each front to back,
 * reading inputs[i][j] before writing outputs[i][j], the same order as the
 * TypeScript kernel; so outputs[i] may be the very same array as inputs[i]
 * (in-place mixing) and the two kernels still agree.
 */

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -DMIXER_NO_SIMD builds only the scalar kernel, as on non-x86 machines
 * (the tests run that way too: see README.md). */
#if !defined(MIXER_NO_SIMD) &&                   \
    (defined(__x86_64__) || defined(_M_X64) ||   \
     (defined(__i386__) && defined(__SSE2__)))
#define MIXER_HAVE_SSE2 1
#include <emmintrin.h>
#endif

/* AVX2 is compiled with a target attribute and picked at run time, so one
 * binary built for baseline x86_64 still uses AVX2 where the CPU has it. */
#if MIXER_HAVE_SSE2 && (defined(__GNUC__) || defined(__clang__))
#define MIXER_HAVE_AVX2 1
#include <immintrin.h>
#define MIXER_TARGET_AVX2 __attribute__((target("avx2")))
#endif

/* ------------------------------------------------------------------------ */
/* 1. Limits and kernels                                                    */
/* ------------------------------------------------------------------------ */

#define MAX_COUNT 65536

/* Sum of the active inputs into sum[0..n). nact >= 1. */
typedef void (*sum_fn)(const int16_t *const *act, size_t nact, size_t n,
                       int32_t *sum);
/* out[j] = saturate16(sum[j] - x[j]), or saturate16(sum[j]) when x is NULL. */
typedef void (*sub_fn)(const int32_t *sum, const int16_t *x, int16_t *out,
                       size_t n);

typedef struct {
  const char *name;
  sum_fn sum;
  sub_fn sub;
} variant_t;

static inline int16_t sat16(int32_t v) {
  return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Scalar: plain loops. With -O3 GCC/Clang vectorise these on any arch
 * (NEON on arm64), so this is also the non-x86 fast path. */

static void sum_scalar(const int16_t *const *act, size_t nact, size_t n,
                       int32_t *sum) {
  const int16_t *x0 = act[0];
  for (size_t j = 0; j < n; j++) {
    sum[j] = x0[j];
  }
  for (size_t a = 1; a < nact; a++) {
    const int16_t *x = act[a];
    for (size_t j = 0; j < n; j++) {
      sum[j] += x[j];
    }
  }
}

static void sub_scalar(const int32_t *sum, const int16_t *x, int16_t *out,
                       size_t n) {
  if (x != NULL) {
    for (size_t j = 0; j < n; j++) {
      out[j] = sat16(sum[j] - x[j]);
    }
  } else {
    for (size_t j = 0; j < n; j++) {
      out[j] = sat16(sum[j]);
    }
  }
}

/* Tails of the SIMD loops: the same per-sample rule from index j0 on. */
static inline void sum_tail(const int16_t *const *act, size_t nact,
                            size_t j0, size_t n, int32_t *sum) {
  for (size_t j = j0; j < n; j++) {
    int32_t s = 0;
    for (size_t a = 0; a < nact; a++) {
      s += act[a][j];
    }
    sum[j] = s;
  }
}

static inline void sub_tail(const int32_t *sum, const int16_t *x,
                            int16_t *out, size_t j0, size_t n) {
  for (size_t j = j0; j < n; j++) {
    out[j] = sat16(sum[j] - (x != NULL ? x[j] : 0));
  }
}

#if MIXER_HAVE_SSE2

/* Sign-extends 8 int16 to two vectors of 4 int32 (SSE2 has no pmovsxwd). */
#define WIDEN_LO(v) _mm_srai_epi32(_mm_unpacklo_epi16((v), (v)), 16)
#define WIDEN_HI(v) _mm_srai_epi32(_mm_unpackhi_epi16((v), (v)), 16)

/* The sum is built 16 samples at a time in four registers, adding every
 * active input into them before one store: the sum is written once per
 * chunk instead of once per input. */
static void sum_sse2(const int16_t *const *act, size_t nact, size_t n,
                     int32_t *sum) {
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t a = 0; a < nact; a++) {
      const int16_t *p = act[a] + j;
      __m128i x0 = _mm_loadu_si128((const __m128i *)p);
      __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 8));
      s0 = _mm_add_epi32(s0, WIDEN_LO(x0));
      s1 = _mm_add_epi32(s1, WIDEN_HI(x0));
      s2 = _mm_add_epi32(s2, WIDEN_LO(x1));
      s3 = _mm_add_epi32(s3, WIDEN_HI(x1));
    }
    _mm_storeu_si128((__m128i *)(sum + j), s0);
    _mm_storeu_si128((__m128i *)(sum + j + 4), s1);
    _mm_storeu_si128((__m128i *)(sum + j + 8), s2);
    _mm_storeu_si128((__m128i *)(sum + j + 12), s3);
  }
  sum_tail(act, nact, j, n, sum);
}

/* packs_epi32 saturates each int32 to [-32768, 32767]: exactly the clamp. */
static void sub_sse2(const int32_t *sum, const int16_t *x, int16_t *out,
                     size_t n) {
  size_t j = 0;
  if (x != NULL) {
    for (; j + 8 <= n; j += 8) {
      __m128i v = _mm_loadu_si128((const __m128i *)(x + j));
      __m128i lo = _mm_sub_epi32(
          _mm_loadu_si128((const __m128i *)(sum + j)), WIDEN_LO(v));
      __m128i hi = _mm_sub_epi32(
          _mm_loadu_si128((const __m128i *)(sum + j + 4)), WIDEN_HI(v));
      _mm_storeu_si128((__m128i *)(out + j), _mm_packs_epi32(lo, hi));
    }
  } else {
    for (; j + 8 <= n; j += 8) {
      __m128i lo = _mm_loadu_si128((const __m128i *)(sum + j));
      __m128i hi = _mm_loadu_si128((const __m128i *)(sum + j + 4));
      _mm_storeu_si128((__m128i *)(out + j), _mm_packs_epi32(lo, hi));
    }
  }
  sub_tail(sum, x, out, j, n);
}

#endif /* MIXER_HAVE_SSE2 */

#if MIXER_HAVE_AVX2

/* Loads 8 int16 and sign-extends them to 8 int32 (one vpmovsxwd ymm, m128). */
#define LOAD_WIDEN8(p) _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(p)))

MIXER_TARGET_AVX2
static void sum_avx2(const int16_t *const *act, size_t nact, size_t n,
                     int32_t *sum) {
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t a = 0; a < nact; a++) {
      const int16_t *p = act[a] + j;
      s0 = _mm256_add_epi32(s0, LOAD_WIDEN8(p));
      s1 = _mm256_add_epi32(s1, LOAD_WIDEN8(p + 8));
      s2 = _mm256_add_epi32(s2, LOAD_WIDEN8(p + 16));
      s3 = _mm256_add_epi32(s3, LOAD_WIDEN8(p + 24));
    }
    _mm256_storeu_si256((__m256i *)(sum + j), s0);
    _mm256_storeu_si256((__m256i *)(sum + j + 8), s1);
    _mm256_storeu_si256((__m256i *)(sum + j + 16), s2);
    _mm256_storeu_si256((__m256i *)(sum + j + 24), s3);
  }
  sum_tail(act, nact, j, n, sum);
}

/* _mm256_packs_epi32 packs within 128-bit lanes, giving the quadwords in
 * order 0 2 1 3; one vpermq (0xD8) puts them back in sample order. */
MIXER_TARGET_AVX2
static void sub_avx2(const int32_t *sum, const int16_t *x, int16_t *out,
                     size_t n) {
  size_t j = 0;
  if (x != NULL) {
    for (; j + 16 <= n; j += 16) {
      __m256i lo = _mm256_sub_epi32(
          _mm256_loadu_si256((const __m256i *)(sum + j)), LOAD_WIDEN8(x + j));
      __m256i hi = _mm256_sub_epi32(
          _mm256_loadu_si256((const __m256i *)(sum + j + 8)),
          LOAD_WIDEN8(x + j + 8));
      __m256i r = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
      _mm256_storeu_si256((__m256i *)(out + j), r);
    }
  } else {
    for (; j + 16 <= n; j += 16) {
      __m256i lo = _mm256_loadu_si256((const __m256i *)(sum + j));
      __m256i hi = _mm256_loadu_si256((const __m256i *)(sum + j + 8));
      __m256i r = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
      _mm256_storeu_si256((__m256i *)(out + j), r);
    }
  }
  sub_tail(sum, x, out, j, n);
}

#endif /* MIXER_HAVE_AVX2 */

static const variant_t kScalar = {"scalar", sum_scalar, sub_scalar};
#if MIXER_HAVE_SSE2
static const variant_t kSse2 = {"sse2", sum_sse2, sub_sse2};
#endif
#if MIXER_HAVE_AVX2
static const variant_t kAvx2 = {"avx2", sum_avx2, sub_avx2};
#endif

/* ------------------------------------------------------------------------ */
/* 2. Instance data                                                         */
/* ------------------------------------------------------------------------ */

/* One per Node environment (main thread, each worker), so mixer workers
 * never share scratch. The arrays only grow, to the largest count seen;
 * a steady room allocates nothing. */
typedef struct {
  size_t cap;              /* entries in each array below */
  napi_value *in_vals;     /* inputs[i] handles */
  napi_value *out_vals;    /* outputs[i] handles */
  const int16_t **in;      /* inputs[i] data, NULL when inactive */
  const int16_t **act;     /* the active inputs, compacted */
  int16_t **out;           /* outputs[i] data */
  int busy;                /* set while a call is fetching elements */
} instance_t;

static void instance_free_arrays(instance_t *inst) {
  free(inst->in_vals);
  free(inst->out_vals);
  free((void *)inst->in);
  free((void *)inst->act);
  free(inst->out);
  inst->in_vals = inst->out_vals = NULL;
  inst->in = inst->act = NULL;
  inst->out = NULL;
  inst->cap = 0;
}

static void instance_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  instance_t *inst = (instance_t *)data;
  instance_free_arrays(inst);
  free(inst);
}

/* Makes room for count entries; returns 0 on allocation failure. */
static int instance_reserve(instance_t *inst, size_t count) {
  if (count <= inst->cap) {
    return 1;
  }
  size_t cap = inst->cap < 64 ? 64 : inst->cap;
  while (cap < count) {
    cap *= 2;
  }
  instance_free_arrays(inst);
  inst->in_vals = malloc(cap * sizeof(napi_value));
  inst->out_vals = malloc(cap * sizeof(napi_value));
  inst->in = malloc(cap * sizeof(int16_t *));
  inst->act = malloc(cap * sizeof(int16_t *));
  inst->out = malloc(cap * sizeof(int16_t *));
  if (!inst->in_vals || !inst->out_vals || !inst->in || !inst->act ||
      !inst->out) {
    instance_free_arrays(inst);
    return 0;
  }
  inst->cap = cap;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* 3. Validation and the entry point                                        */
/* ------------------------------------------------------------------------ */

#define ERR_TYPE "ERR_INVALID_ARG_TYPE"
#define ERR_VALUE "ERR_INVALID_ARG_VALUE"

/* Throws a TypeError with a Node-style code; returns NULL for the caller. */
static napi_value throw_type(napi_env env, const char *code, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    napi_throw_type_error(env, code, msg);
  }
  return NULL;
}

/* Reads a typed array of the wanted type with at least min elements: -1 for
 * the wrong type, -2 for too short. No copy: data points into the buffer.
 * (napi_get_typedarray_info itself answers napi_invalid_arg for anything
 * that is not a typed array, so no napi_is_typedarray call is needed; this
 * runs twice per participant per tick.) A detached buffer has length 0. */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want,
                     size_t min, void **data, size_t *len) {
  napi_typedarray_type type;
  *len = 0;
  if (napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) !=
          napi_ok ||
      type != want) {
    return -1;
  }
  return *len >= min ? 0 : -2;
}

/* A non-negative integer that fits in max (numbers only, no coercion). */
static int get_index(napi_env env, napi_value v, double max, size_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_double(env, v, &d) != napi_ok) {
    return -1;
  }
  if (!(d >= 0 && d <= max) || d != floor(d)) {
    return -2;
  }
  *out = (size_t)d;
  return 0;
}

/* Fetches arr[0..count) into vals. The only step that can run JS (an index
 * getter, a hole reaching Array.prototype), so it runs before any data
 * pointer is taken: nothing JS does here can detach a buffer under us. */
static int get_elements(napi_env env, napi_value arr, size_t count,
                        napi_value *vals) {
  for (size_t i = 0; i < count; i++) {
    if (napi_get_element(env, arr, (uint32_t)i, &vals[i]) != napi_ok) {
      return -1;
    }
  }
  return 0;
}

static napi_value mix_call(napi_env env, napi_callback_info info) {
  char msg[160];
  size_t argc = 6;
  napi_value argv[6];
  const variant_t *variant = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&variant) !=
      napi_ok) {
    return NULL;
  }
  if (argc < 6) {
    return throw_type(env, "ERR_MISSING_ARGS",
                      "mix(inputs, active, count, frameSamples, sum, outputs) "
                      "takes 6 arguments");
  }
  instance_t *inst = NULL;
  if (napi_get_instance_data(env, (void **)&inst) != napi_ok || inst == NULL) {
    return throw_type(env, ERR_VALUE, "native mixer is not initialised");
  }
  if (inst->busy) {
    napi_throw_error(env, "ERR_INVALID_STATE",
                     "mix() was called again from inside mix() (an array "
                     "getter?); it is not reentrant");
    return NULL;
  }

  size_t count = 0, n = 0;
  int r = get_index(env, argv[2], MAX_COUNT, &count);
  if (r != 0) {
    return throw_type(env, r == -1 ? ERR_TYPE : ERR_VALUE,
                      r == -1 ? "count must be a number"
                              : "count must be an integer from 0 to 65536");
  }
  r = get_index(env, argv[3], 4294967295.0, &n);
  if (r != 0) {
    return throw_type(env, r == -1 ? ERR_TYPE : ERR_VALUE,
                      r == -1 ? "frameSamples must be a number"
                              : "frameSamples must be a non-negative integer");
  }

  bool is_array = false;
  uint32_t in_len = 0, out_len = 0;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    return throw_type(env, ERR_TYPE, "inputs must be an Array of Int16Array");
  }
  if (napi_is_array(env, argv[5], &is_array) != napi_ok || !is_array) {
    return throw_type(env, ERR_TYPE, "outputs must be an Array of Int16Array");
  }
  napi_get_array_length(env, argv[0], &in_len);
  napi_get_array_length(env, argv[5], &out_len);
  if (in_len < count) {
    snprintf(msg, sizeof msg, "inputs has %u elements, fewer than count %zu",
             in_len, count);
    return throw_type(env, ERR_VALUE, msg);
  }
  if (out_len < count) {
    snprintf(msg, sizeof msg, "outputs has %u elements, fewer than count %zu",
             out_len, count);
    return throw_type(env, ERR_VALUE, msg);
  }

  if (!instance_reserve(inst, count)) {
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                     "native mixer: out of memory");
    return NULL;
  }
  inst->busy = 1;
  r = get_elements(env, argv[0], count, inst->in_vals);
  if (r == 0) {
    r = get_elements(env, argv[5], count, inst->out_vals);
  }
  inst->busy = 0;
  if (r != 0) {
    return NULL; /* a getter threw: let its exception through */
  }

  /* From here on no JS runs until we return, so the pointers stay valid. */
  void *data;
  size_t len;
  r = get_typed(env, argv[1], napi_uint8_array, count, &data, &len);
  if (r != 0) {
    if (r == -1) {
      return throw_type(env, ERR_TYPE, "active must be a Uint8Array");
    }
    snprintf(msg, sizeof msg,
             "active has length %zu, shorter than count %zu", len, count);
    return throw_type(env, ERR_VALUE, msg);
  }
  const uint8_t *active = (const uint8_t *)data;

  r = get_typed(env, argv[4], napi_int32_array, n, &data, &len);
  if (r != 0) {
    if (r == -1) {
      return throw_type(env, ERR_TYPE, "sum must be an Int32Array");
    }
    snprintf(msg, sizeof msg,
             "sum has length %zu, shorter than frameSamples %zu", len, n);
    return throw_type(env, ERR_VALUE, msg);
  }
  int32_t *sum = (int32_t *)data;

  size_t nact = 0;
  for (size_t i = 0; i < count; i++) {
    r = get_typed(env, inst->in_vals[i], napi_int16_array, n, &data, &len);
    if (r != 0) {
      if (r == -1) {
        snprintf(msg, sizeof msg, "inputs[%zu] must be an Int16Array", i);
      } else {
        snprintf(msg, sizeof msg,
                 "inputs[%zu] has length %zu, shorter than frameSamples %zu",
                 i, len, n);
      }
      return throw_type(env, r == -1 ? ERR_TYPE : ERR_VALUE, msg);
    }
    inst->in[i] = active[i] ? (const int16_t *)data : NULL;
    if (active[i]) {
      inst->act[nact++] = (const int16_t *)data;
    }
    r = get_typed(env, inst->out_vals[i], napi_int16_array, n, &data, &len);
    if (r != 0) {
      if (r == -1) {
        snprintf(msg, sizeof msg, "outputs[%zu] must be an Int16Array", i);
      } else {
        snprintf(msg, sizeof msg,
                 "outputs[%zu] has length %zu, shorter than frameSamples %zu",
                 i, len, n);
      }
      return throw_type(env, r == -1 ? ERR_TYPE : ERR_VALUE, msg);
    }
    inst->out[i] = (int16_t *)data;
  }

  /* All arguments are valid: nothing was written before this point. */
  if (n == 0) {
    return NULL;
  }
  if (nact == 0) {
    /* Nobody talked: a zero sum and silence for everyone. */
    memset(sum, 0, n * sizeof *sum);
    for (size_t i = 0; i < count; i++) {
      memset(inst->out[i], 0, n * sizeof(int16_t));
    }
    return NULL;
  }
  variant->sum(inst->act, nact, n, sum);
  for (size_t i = 0; i < count; i++) {
    variant->sub(sum, inst->in[i], inst->out[i], n);
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* 4. Module init                                                           */
/* ------------------------------------------------------------------------ */

static const variant_t *best_variant(void) {
#if MIXER_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    return &kAvx2;
  }
#endif
#if MIXER_HAVE_SSE2
  return &kSse2;
#else
  return &kScalar;
#endif
}

static napi_status export_fn(napi_env env, napi_value target, const char *key,
                             const variant_t *v) {
  napi_value fn;
  napi_status s = napi_create_function(env, key, NAPI_AUTO_LENGTH, mix_call,
                                       (void *)v, &fn);
  return s != napi_ok ? s : napi_set_named_property(env, target, key, fn);
}

static napi_status export_str(napi_env env, napi_value target, const char *key,
                              const char *value) {
  napi_value str;
  napi_status s = napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &str);
  return s != napi_ok ? s : napi_set_named_property(env, target, key, str);
}

NAPI_MODULE_INIT() {
  instance_t *inst = calloc(1, sizeof *inst);
  if (inst == NULL ||
      napi_set_instance_data(env, inst, instance_finalize, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "native mixer: cannot set instance data");
    return NULL;
  }
  const variant_t *best = best_variant();

  /* kernels: every variant this CPU runs, for tests and benchmarks. */
  napi_value kernels, max_count;
  if (napi_create_object(env, &kernels) != napi_ok ||
      export_fn(env, kernels, kScalar.name, &kScalar) != napi_ok) {
    return NULL;
  }
#if MIXER_HAVE_SSE2
  if (export_fn(env, kernels, kSse2.name, &kSse2) != napi_ok) {
    return NULL;
  }
#endif
#if MIXER_HAVE_AVX2
  if (best == &kAvx2 &&
      export_fn(env, kernels, kAvx2.name, &kAvx2) != napi_ok) {
    return NULL;
  }
#endif
  if (napi_object_freeze(env, kernels) != napi_ok ||
      napi_create_uint32(env, MAX_COUNT, &max_count) != napi_ok ||
      export_fn(env, exports, "mix", best) != napi_ok ||
      export_str(env, exports, "name", "native") != napi_ok ||
      export_str(env, exports, "simd", best->name) != napi_ok ||
      napi_set_named_property(env, exports, "maxCount", max_count) !=
          napi_ok ||
      napi_set_named_property(env, exports, "kernels", kernels) != napi_ok) {
    return NULL;
  }
  return exports;
}
