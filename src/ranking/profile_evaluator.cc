// The Evaluator: runs a Program instruction by instruction, each instruction
// one loop over a chunk of up to kEvalBatch candidates. The loops call the
// scalar definitions in program_ops.h on restrict pointers, so the compiler
// vectorizes the arithmetic, comparisons and selects.
#include <algorithm>

#include "ranking/profile.h"

namespace tidal::ranking {
namespace {

template <Op kOp>
void unary_loop(double* __restrict d, const double* __restrict a, size_t m) {
  for (size_t i = 0; i < m; ++i) d[i] = apply_op(kOp, a[i], 0);
}

template <Op kOp>
void binary_loop(double* __restrict d, const double* __restrict a, const double* __restrict b,
                 size_t m) {
  for (size_t i = 0; i < m; ++i) d[i] = apply_op(kOp, a[i], b[i]);
}

void select_loop(double* __restrict d, const double* __restrict c, const double* __restrict a,
                 const double* __restrict b, size_t m) {
  for (size_t i = 0; i < m; ++i) d[i] = truthy(c[i]) ? a[i] : b[i];
}

void age_loop(double* __restrict d, const double* __restrict created, double now, size_t m) {
  for (size_t i = 0; i < m; ++i) d[i] = age_seconds(created[i], now);
}

void freshness_loop(double* __restrict d, const double* __restrict created, double now,
                    double half_life, size_t m) {
  for (size_t i = 0; i < m; ++i) d[i] = freshness(created[i], now, half_life);
}

}  // namespace

Evaluator::Evaluator(const Program& program) : program_(program) {
  const size_t f = program.features_.size();
  const size_t c = program.constants_.size();
  const size_t t = program.temp_count_;
  scratch_.assign((c + t) * kEvalBatch, 0.0);
  slots_.assign(f + c + t + 1, nullptr);
  for (size_t i = 0; i < c; ++i) {
    double* reg = scratch_.data() + i * kEvalBatch;
    std::fill(reg, reg + kEvalBatch, program.constants_[i]);
    slots_[f + i] = reg;
  }
  for (size_t i = 0; i < t; ++i) slots_[f + c + i] = scratch_.data() + (c + i) * kEvalBatch;
  one_columns_.assign(f, nullptr);
}

void Evaluator::evaluate(const FeatureColumns& cols, size_t n, double now_seconds, double* out) {
  const size_t f = program_.features_.size();
  const size_t out_slot = slots_.size() - 1;
  for (size_t begin = 0; begin < n; begin += kEvalBatch) {
    const size_t m = std::min(kEvalBatch, n - begin);
    for (size_t i = 0; i < f; ++i) slots_[i] = cols.columns[i] + begin;
    slots_[out_slot] = out + begin;
    run_chunk(m, now_seconds);
  }
}

double Evaluator::evaluate_one(std::span<const double> features, double now_seconds) {
  for (size_t i = 0; i < one_columns_.size(); ++i) one_columns_[i] = &features[i];
  double out = 0;
  evaluate(FeatureColumns{.columns = one_columns_}, 1, now_seconds, &out);
  return out;
}

void Evaluator::run_chunk(size_t m, double now) {
  for (const Instruction& in : program_.code_) {
    // Only temporaries and the output are ever destinations; the slot table
    // holds const pointers because feature columns are the caller's.
    double* d = const_cast<double*>(slots_[in.dst]);
    const double* a = slots_[in.a];
    const double* b = slots_[in.b];
    switch (in.op) {
      case Op::kAdd: binary_loop<Op::kAdd>(d, a, b, m); break;
      case Op::kSub: binary_loop<Op::kSub>(d, a, b, m); break;
      case Op::kMul: binary_loop<Op::kMul>(d, a, b, m); break;
      case Op::kDiv: binary_loop<Op::kDiv>(d, a, b, m); break;
      case Op::kLt: binary_loop<Op::kLt>(d, a, b, m); break;
      case Op::kLe: binary_loop<Op::kLe>(d, a, b, m); break;
      case Op::kGt: binary_loop<Op::kGt>(d, a, b, m); break;
      case Op::kGe: binary_loop<Op::kGe>(d, a, b, m); break;
      case Op::kEq: binary_loop<Op::kEq>(d, a, b, m); break;
      case Op::kNe: binary_loop<Op::kNe>(d, a, b, m); break;
      case Op::kAnd: binary_loop<Op::kAnd>(d, a, b, m); break;
      case Op::kOr: binary_loop<Op::kOr>(d, a, b, m); break;
      case Op::kMin: binary_loop<Op::kMin>(d, a, b, m); break;
      case Op::kMax: binary_loop<Op::kMax>(d, a, b, m); break;
      case Op::kPow: binary_loop<Op::kPow>(d, a, b, m); break;
      case Op::kWilson: binary_loop<Op::kWilson>(d, a, b, m); break;
      case Op::kNeg: unary_loop<Op::kNeg>(d, a, m); break;
      case Op::kNot: unary_loop<Op::kNot>(d, a, m); break;
      case Op::kAbs: unary_loop<Op::kAbs>(d, a, m); break;
      case Op::kLog: unary_loop<Op::kLog>(d, a, m); break;
      case Op::kLog1p: unary_loop<Op::kLog1p>(d, a, m); break;
      case Op::kSqrt: unary_loop<Op::kSqrt>(d, a, m); break;
      case Op::kExp: unary_loop<Op::kExp>(d, a, m); break;
      case Op::kCopy: std::copy(a, a + m, d); break;
      case Op::kAge: age_loop(d, a, now, m); break;
      case Op::kFreshness: freshness_loop(d, a, now, in.imm, m); break;
      case Op::kSelect: select_loop(d, a, b, slots_[in.c], m); break;
    }
  }
}

}  // namespace tidal::ranking
