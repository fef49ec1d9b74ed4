#include "support/ann_data.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <queue>
#include <random>
#include <utility>

#include "support/bench_report.h"

namespace tidal::bench {
namespace {

// A record's dimension must be positive and not absurd (the files hold
// 128- to 960-dimensional sets; 1 << 16 leaves room).
constexpr int32_t kMaxDim = 1 << 16;
// Vectors generated per random stream, so a set is the same whatever the
// number of threads that made it.
constexpr size_t kChunk = 4096;

Status bad_file(const std::string& path, size_t record, const std::string& rule) {
  return Status::Invalid(Subsystem::kIo, path + " record " + std::to_string(record), "", rule);
}

// Reads the records of `path` as 4-byte values into *out; *dim is their
// dimension.
template <typename T>
Status read_vecs(const std::string& path, size_t* dim, size_t* count, std::vector<T>* out) {
  static_assert(sizeof(T) == 4);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f)
    return Status::NotFound(Subsystem::kIo, "cannot open " + path + ": " + std::strerror(errno));
  *dim = 0;
  *count = 0;
  out->clear();
  for (;;) {
    int32_t d = 0;
    size_t got = std::fread(&d, 1, sizeof d, f.get());
    if (got == 0) break;
    if (got != sizeof d) return bad_file(path, *count, "truncated dimension");
    if (d <= 0 || d > kMaxDim) {
      return bad_file(
          path, *count,
          "dimension " + std::to_string(d) + " is not in 1.." + std::to_string(kMaxDim));
    }
    if (*count == 0) *dim = static_cast<size_t>(d);
    if (static_cast<size_t>(d) != *dim) {
      return bad_file(path, *count,
                      "dimension " + std::to_string(d) + " differs from the first record's " +
                          std::to_string(*dim));
    }
    const size_t at = out->size();
    out->resize(at + *dim);
    if (std::fread(out->data() + at, sizeof(T), *dim, f.get()) != *dim) {
      return bad_file(path, *count, "truncated values");
    }
    ++*count;
  }
  if (*count == 0) return bad_file(path, 0, "the file holds no vectors");
  return Status::Ok();
}

// Squared L2 distance; eight independent sums so the compiler keeps them in
// one vector register (a single running sum could not be reordered).
float l2_squared(const float* a, const float* b, size_t dim) {
  float acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) {
      const float d = a[i + j] - b[i + j];
      acc[j] += d * d;
    }
  }
  float sum = 0;
  for (; i < dim; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  for (float x : acc) sum += x;
  return sum;
}

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Result<VectorSet> load_fvecs(const std::string& path) {
  VectorSet set;
  TIDAL_RETURN_IF_ERROR(read_vecs(path, &set.dim, &set.count, &set.values));
  return set;
}

Result<Neighbors> load_ivecs(const std::string& path) {
  Neighbors n;
  size_t count = 0;
  std::vector<int32_t> values;
  TIDAL_RETURN_IF_ERROR(read_vecs(path, &n.k, &count, &values));
  n.ids.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0) return bad_file(path, i / n.k, "a negative id");
    n.ids.push_back(static_cast<uint32_t>(values[i]));
  }
  return n;
}

VectorSet clustered_vectors(size_t count, size_t dim, size_t centers, uint64_t seed,
                            uint64_t stream) {
  std::vector<float> middle(centers * dim);
  {
    std::mt19937_64 rng(mix(seed));
    std::normal_distribution<float> spread(0.0f, 10.0f);
    for (float& x : middle) x = spread(rng);
  }
  std::vector<float> sigma(dim);
  for (size_t j = 0; j < dim; ++j) sigma[j] = 4.0f / (1.0f + static_cast<float>(j) / 8.0f);

  VectorSet set{.dim = dim, .count = count, .values = std::vector<float>(count * dim)};
  const size_t chunks = (count + kChunk - 1) / kChunk;
  run_batches(chunks, 1, 2, [&](int, size_t begin, size_t end) {
    for (size_t c = begin; c < end; ++c) {
      std::mt19937_64 rng(mix(seed ^ mix(stream * 0x100000001b3ULL + c + 1)));
      std::uniform_int_distribution<size_t> pick(0, centers - 1);
      std::normal_distribution<float> noise(0.0f, 1.0f);
      for (size_t i = c * kChunk; i < std::min(count, (c + 1) * kChunk); ++i) {
        const float* m = middle.data() + pick(rng) * dim;
        float* v = set.values.data() + i * dim;
        for (size_t j = 0; j < dim; ++j) v[j] = m[j] + sigma[j] * noise(rng);
      }
    }
  });
  return set;
}

Neighbors exact_neighbors(const VectorSet& base, const VectorSet& queries, size_t k,
                          const std::function<bool(uint32_t id)>& eligible, int threads) {
  Neighbors out{.k = k, .ids = std::vector<uint32_t>(queries.count * k, UINT32_MAX)};
  std::vector<uint32_t> candidates;
  for (size_t i = 0; i < base.count; ++i) {
    if (!eligible || eligible(static_cast<uint32_t>(i))) {
      candidates.push_back(static_cast<uint32_t>(i));
    }
  }
  run_batches(queries.count, 1, threads, [&](int, size_t begin, size_t end) {
    for (size_t q = begin; q < end; ++q) {
      // A max-heap of the best k so far: (distance, id), the worst on top.
      std::priority_queue<std::pair<float, uint32_t>> best;
      for (uint32_t id : candidates) {
        const float d = l2_squared(queries.row(q), base.row(id), base.dim);
        if (best.size() < k) {
          best.emplace(d, id);
        } else if (std::make_pair(d, id) < best.top()) {
          best.pop();
          best.emplace(d, id);
        }
      }
      for (size_t r = best.size(); r-- > 0; best.pop()) out.ids[q * k + r] = best.top().second;
    }
  });
  return out;
}

double recall_at(const Neighbors& truth, const std::vector<std::vector<int64_t>>& found, size_t k) {
  if (found.empty()) return 0;
  double sum = 0;
  for (size_t q = 0; q < found.size(); ++q) {
    const uint32_t* t = truth.row(q);
    const size_t depth = std::min(k, truth.k);
    size_t expected = 0, hits = 0;
    for (size_t i = 0; i < depth; ++i) {
      if (t[i] == UINT32_MAX) continue;
      ++expected;
      const size_t look = std::min(k, found[q].size());
      for (size_t j = 0; j < look; ++j) hits += found[q][j] == static_cast<int64_t>(t[i]) ? 1 : 0;
    }
    sum += expected == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(expected);
  }
  return sum / static_cast<double>(found.size());
}

std::string take_ann_data_flag(std::vector<std::string>* args) {
  return take_flag(args, "--data=", TIDAL_SHARED_DATA_DIR "/ann/siftsmall");
}

}  // namespace tidal::bench
