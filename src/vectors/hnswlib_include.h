// Includes hnswlib (Debian's libhnswlib-dev, header-only) with its global
// functions renamed. Its headers define CPU-feature helpers and
// distance-function pointers as ordinary (non-inline) globals, so two files
// of one program that include it would define each twice: every includer
// defines TIDAL_HNSWLIB_PREFIX first, and its copies get that prefix.
//
//   #define TIDAL_HNSWLIB_PREFIX tidal_vectors_
//   #include "vectors/hnswlib_include.h"
//
// Deliberately without an include guard: one inclusion per file.
#ifndef TIDAL_HNSWLIB_PREFIX
#error "define TIDAL_HNSWLIB_PREFIX before including vectors/hnswlib_include.h"
#endif

#define TIDAL_HNSWLIB_PASTE2(prefix, name) prefix##name
#define TIDAL_HNSWLIB_PASTE(prefix, name) TIDAL_HNSWLIB_PASTE2(prefix, name)
#define cpuid TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, cpuid)
#define xgetbv TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, xgetbv)
#define AVXCapable TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, AVXCapable)
#define AVX512Capable TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, AVX512Capable)
#define L2SqrSIMD16Ext TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, L2SqrSIMD16Ext)
#define InnerProductSIMD16Ext TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, InnerProductSIMD16Ext)
#define InnerProductSIMD4Ext TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, InnerProductSIMD4Ext)
#define InnerProductDistanceSIMD16Ext \
  TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, InnerProductDistanceSIMD16Ext)
#define InnerProductDistanceSIMD4Ext \
  TIDAL_HNSWLIB_PASTE(TIDAL_HNSWLIB_PREFIX, InnerProductDistanceSIMD4Ext)
#include <hnswlib/hnswlib.h>
#undef cpuid
#undef xgetbv
#undef AVXCapable
#undef AVX512Capable
#undef L2SqrSIMD16Ext
#undef InnerProductSIMD16Ext
#undef InnerProductSIMD4Ext
#undef InnerProductDistanceSIMD16Ext
#undef InnerProductDistanceSIMD4Ext
#undef TIDAL_HNSWLIB_PASTE
#undef TIDAL_HNSWLIB_PASTE2
