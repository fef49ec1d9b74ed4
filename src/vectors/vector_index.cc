#include "vectors/vector_index.h"

#include <blake3.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <queue>
#include <thread>

#include "core/coding.h"
#include "core/posix_file.h"
#include "entities/entity_codec.h"

// The only file of the library that includes hnswlib (renamed globals:
// a program linking tidalDB may include hnswlib itself).
#define TIDAL_HNSWLIB_PREFIX tidal_vectors_
#include "vectors/hnswlib_include.h"

namespace tidal::vectors {

namespace {

constexpr uint32_t kNoElement = UINT32_MAX;
constexpr std::string_view kHeaderMagic = "tidal-hnsw";
constexpr uint32_t kHeaderVersion = 1;
constexpr size_t kInitialCapacity = 1024;
// A slot whose graph holds at least this many dead elements (removed
// vectors), and more dead than live ones, is rebuilt from its live vectors.
constexpr uint64_t kCompactMinDead = 1024;

std::string kind_word(EntityKind kind) {
  switch (kind) {
    case EntityKind::kItem: return "items";
    case EntityKind::kUser: return "users";
    case EntityKind::kCreator: return "creators";
  }
  return "entities";
}

void normalize(std::vector<float>* v) {
  double norm = 0;
  for (float c : *v) norm += static_cast<double>(c) * c;
  norm = std::sqrt(norm);
  if (norm == 0) return;
  for (float& c : *v) c = static_cast<float>(c / norm);
}

// BLAKE3 of a file's bytes, read in pieces (a graph can be larger than is
// worth holding twice in memory).
Result<uint64_t> file_checksum(const std::string& path, uint64_t* size) {
  TIDAL_ASSIGN_OR_RETURN(FileHandle file, FileHandle::open(path, O_RDONLY));
  blake3_hasher h;
  blake3_hasher_init(&h);
  std::vector<char> buf(1 << 20);
  *size = 0;
  while (true) {
    ssize_t n = ::read(file.fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoErrorFromErrno(Subsystem::kStorage, "read " + path, errno);
    if (n == 0) break;
    blake3_hasher_update(&h, buf.data(), static_cast<size_t>(n));
    *size += static_cast<uint64_t>(n);
  }
  uint8_t out[8];
  blake3_hasher_finalize(&h, out, sizeof(out));
  return decode_fixed64_le(reinterpret_cast<const char*>(out));
}

}  // namespace

// ---------------------------------------------------------------------------
// The hnswlib graph of one slot.

struct VectorSlot::Graph {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
  hnswlib::DISTFUNC<float> distance = nullptr;
  void* param = nullptr;

  explicit Graph(const AttributeDefinition& def) {
    if (def.metric == VectorMetric::kL2) {
      space = std::make_unique<hnswlib::L2Space>(def.vector_dim);
    } else {
      space = std::make_unique<hnswlib::InnerProductSpace>(def.vector_dim);
    }
    distance = space->get_dist_func();
    param = space->get_dist_func_param();
  }

  void create(size_t capacity) {
    hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        space.get(), std::max<size_t>(capacity, 1), kHnswM, kHnswEfConstruction);
    // searchKnn(q, k) searches with breadth max(ef_, k): queries ask for
    // their own breadth as k, so that concurrent queries never share a
    // setting.
    hnsw->ef_ = 1;
  }
};

VectorSlot::VectorSlot(const AttributeDefinition& def, uint16_t slot)
    : def_(def), slot_(slot), graph_(std::make_unique<Graph>(def)) {}

VectorSlot::~VectorSlot() = default;

void VectorSlot::to_stored(std::string_view raw, std::vector<float>* out) const {
  out->resize(raw.size() / 4);
  for (size_t k = 0; k < out->size(); ++k) {
    uint32_t bits = decode_fixed32_le(raw.data() + k * 4);
    std::memcpy(&(*out)[k], &bits, 4);
  }
  if (def_.metric == VectorMetric::kCosine) normalize(out);
}

Result<std::vector<float>> VectorSlot::prepare_query(std::span<const float> v,
                                                     std::string_view field) const {
  auto values = [&] {
    std::string s = "[";
    char buf[32];
    for (size_t k = 0; k < v.size() && k < 4; ++k) {
      auto end = std::to_chars(buf, buf + sizeof buf, v[k]).ptr;  // shortest exact form
      s += (k ? ", " : "") + std::string(buf, end);
    }
    return s + (v.size() > 4 ? ", ...]" : "]");
  };
  if (v.size() != def_.vector_dim) {
    return Status::Invalid(Subsystem::kQuery, field, values(),
                           "has " + std::to_string(v.size()) + " components; vector attribute " +
                               def_.name + " has dimension " + std::to_string(def_.vector_dim));
  }
  double norm = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v[k])) {
      return Status::Invalid(Subsystem::kQuery, std::string(field) + "[" + std::to_string(k) + "]",
                             std::isnan(v[k]) ? "nan" : (v[k] > 0 ? "inf" : "-inf"),
                             "must be a finite number to search vector attribute " + def_.name);
    }
    norm += static_cast<double>(v[k]) * v[k];
  }
  if (def_.metric == VectorMetric::kCosine && norm == 0) {
    return Status::Invalid(Subsystem::kQuery, field, values(),
                           "is the zero vector, which has no direction for the cosine metric of "
                           "vector attribute " +
                               def_.name);
  }
  std::vector<float> out(v.begin(), v.end());
  if (def_.metric == VectorMetric::kCosine) normalize(&out);
  return out;
}

bool VectorSlot::has(uint32_t id) const {
  return id < internal_of_.size() && internal_of_[id] != kNoElement;
}

const float* VectorSlot::stored(uint32_t id) const {
  if (!has(id)) return nullptr;
  return reinterpret_cast<const float*>(graph_->hnsw->getDataByInternalId(internal_of_[id]));
}

double VectorSlot::similarity_of(float distance) const {
  switch (def_.metric) {
    case VectorMetric::kCosine:
    case VectorMetric::kDot: return 1.0 - static_cast<double>(distance);
    case VectorMetric::kL2: return 1.0 / (1.0 + std::sqrt(std::max(0.0f, distance)));
  }
  return 0;
}

double VectorSlot::similarity(const float* query, uint32_t id) const {
  const float* v = stored(id);
  if (v == nullptr) return 0;
  return similarity_of(graph_->distance(query, v, graph_->param));
}

Status VectorSlot::put(uint32_t id, const std::vector<float>& v) {
  if (id < internal_of_.size() && internal_of_[id] != kNoElement &&
      std::memcmp(stored(id), v.data(), v.size() * 4) == 0) {
    return Status::Ok();  // unchanged
  }
  try {
    if (!graph_->hnsw) graph_->create(kInitialCapacity);
    hnswlib::HierarchicalNSW<float>& h = *graph_->hnsw;
    if (h.label_lookup_.count(id) == 0 && h.cur_element_count >= h.max_elements_) {
      h.resizeIndex(std::max<size_t>(kInitialCapacity, h.max_elements_ * 2));
    }
    const uint32_t element = static_cast<uint32_t>(h.addPoint(v.data(), id, -1));
    if (id >= internal_of_.size()) internal_of_.resize(id + 1, kNoElement);
    internal_of_[id] = element;
  } catch (const std::exception& e) {
    return Status::Internal(Subsystem::kStorage, "vector attribute " + def_.name +
                                                     ": the HNSW graph failed to add entity " +
                                                     std::to_string(id) + ": " + e.what());
  }
  present_.add(id);
  ++changes_;
  return Status::Ok();
}

Status VectorSlot::remove(uint32_t id) {
  if (!has(id)) return Status::Ok();
  // The element stays in the graph as an ordinary element (it still routes
  // searches; nearest() never returns it, and a later vector for the same
  // entity reuses it). hnswlib's own deletion mark is not used: in hnswlib
  // 0.6 an insertion whose construction search reaches only marked elements
  // links the new element through an empty neighbour list (out of bounds).
  internal_of_[id] = kNoElement;
  present_.remove(id);
  ++changes_;
  return compact_if_mostly_dead();
}

uint64_t VectorSlot::elements() const {
  return graph_->hnsw ? graph_->hnsw->cur_element_count : 0;
}

Status VectorSlot::compact_if_mostly_dead() {
  const uint64_t live = present_.cardinality(), dead = elements() - live;
  if (dead < kCompactMinDead || dead <= live) return Status::Ok();
  std::vector<std::pair<uint32_t, std::vector<float>>> vectors;
  vectors.reserve(live);
  for (uint32_t id : present_) {
    const float* v = stored(id);
    vectors.emplace_back(id, std::vector<float>(v, v + dim()));
  }
  return rebuild(vectors);
}

Status VectorSlot::rebuild(const std::vector<std::pair<uint32_t, std::vector<float>>>& vectors) {
  present_ = Bitmap();
  internal_of_.clear();
  changes_ = 0;
  if (vectors.empty()) {
    graph_->hnsw.reset();
    return Status::Ok();
  }
  graph_->create(std::max(kInitialCapacity, vectors.size() + vectors.size() / 4));
  uint32_t max_id = 0;
  for (const auto& [id, v] : vectors) max_id = std::max(max_id, id);
  internal_of_.assign(max_id + 1, kNoElement);
  // hnswlib's insertions may run concurrently: every core inserts its share,
  // in blocks taken in turn so that early elements land first.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  constexpr size_t kBlock = 64;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t from = next.fetch_add(kBlock);
      if (from >= vectors.size()) return;
      for (size_t i = from; i < std::min(vectors.size(), from + kBlock); ++i) {
        try {
          const uint32_t id = vectors[i].first;
          internal_of_[id] =
              static_cast<uint32_t>(graph_->hnsw->addPoint(vectors[i].second.data(), id, -1));
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lk(error_mu);
          error = e.what();
          failed = true;
          return;
        }
      }
    }
  };
  const size_t threads =
      vectors.size() < 4096 ? 1 : std::max<size_t>(1, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& w : workers) w.join();
  if (failed) {
    return Status::Internal(Subsystem::kStorage, "vector attribute " + def_.name +
                                                     ": building the HNSW graph failed: " + error);
  }
  for (const auto& [id, v] : vectors) present_.add(id);
  changes_ = 1;  // the next checkpoint saves it
  return Status::Ok();
}

std::vector<Neighbor> VectorSlot::exact(const float* query, size_t k, const Bitmap* within,
                                        std::optional<uint32_t> exclude, SearchStats* stats) const {
  // A max-heap of the best k by (distance, id).
  std::vector<std::pair<float, uint32_t>> heap;
  uint64_t examined = 0;
  auto offer = [&](uint32_t id) {
    if (exclude && *exclude == id) return;
    const float d =
        graph_->distance(query, graph_->hnsw->getDataByInternalId(internal_of_[id]), graph_->param);
    ++examined;
    if (heap.size() < k) {
      heap.emplace_back(d, id);
      std::push_heap(heap.begin(), heap.end());
    } else if (std::make_pair(d, id) < heap.front()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = {d, id};
      std::push_heap(heap.begin(), heap.end());
    }
  };
  if (k > 0 && graph_->hnsw) {
    if (within != nullptr) {
      Bitmap both = *within & present_;
      for (uint32_t id : both) offer(id);
    } else {
      for (uint32_t id : present_) offer(id);
    }
  }
  std::sort_heap(heap.begin(), heap.end());
  std::vector<Neighbor> out;
  out.reserve(heap.size());
  for (const auto& [d, id] : heap) out.push_back({id, similarity_of(d)});
  if (stats) stats->examined += examined;
  return out;
}

std::vector<Neighbor> VectorSlot::nearest(const float* query, size_t k, const Bitmap* within,
                                          size_t ef, std::optional<uint32_t> exclude,
                                          SearchStats* stats) const {
  SearchStats local;
  if (stats == nullptr) stats = &local;
  // The graph holds the live vectors and the dead elements of removed ones
  // (which route searches but are never returned): a search over it is
  // filtered by `within` ∩ present_.
  const uint64_t total = elements();
  const uint64_t candidates = within ? within->and_cardinality(present_) : present_.cardinality();
  stats->candidates = candidates;
  const size_t want = k + (exclude && (!within || within->contains(*exclude)) ? 1 : 0);
  if (want == 0 || candidates == 0 || !graph_->hnsw) {
    stats->strategy = "no vectors to search";
    return {};
  }
  ef = std::max(ef, want);
  // The beam must hold about want / selectivity results for `want` of them
  // to pass the filter (and be live). An HNSW search computes about ef · M · 1.5
  // distances (a node's neighbours at layer 0, most of them new); the exact
  // strategy computes one per candidate.
  const double selectivity = static_cast<double>(candidates) / static_cast<double>(total);
  const bool filtered = candidates < total;
  size_t beam = filtered ? std::max<size_t>(ef, static_cast<size_t>(std::ceil(
                                                    1.5 * static_cast<double>(want) / selectivity)))
                         : ef;
  const double hnsw_cost = static_cast<double>(beam) * static_cast<double>(kHnswM) * 1.5;
  if (static_cast<double>(candidates) <= hnsw_cost || beam >= total) {
    stats->strategy = "exact scan of " + std::to_string(candidates) + " vectors";
    return exact(query, k, within, exclude, stats);
  }
  while (true) {
    auto found = graph_->hnsw->searchKnn(query, beam);
    std::vector<std::pair<float, uint32_t>> kept;
    stats->examined += found.size();
    while (!found.empty()) {
      const auto [d, label] = found.top();
      found.pop();
      const uint32_t id = static_cast<uint32_t>(label);
      if (exclude && *exclude == id) continue;
      if (!present_.contains(id) || (within && !within->contains(id))) continue;
      kept.emplace_back(d, id);
    }
    if (kept.size() >= k || beam >= total) {
      std::sort(kept.begin(), kept.end());
      if (kept.size() > k) kept.resize(k);
      stats->strategy = "hnsw ef " + std::to_string(beam) +
                        (within ? " over-fetched for a filter keeping " +
                                      std::to_string(candidates) + " of " + std::to_string(total)
                         : filtered ? " over-fetched past " + std::to_string(total - candidates) +
                                          " removed vectors"
                                    : std::string());
      std::vector<Neighbor> out;
      out.reserve(kept.size());
      for (const auto& [d, id] : kept) out.push_back({id, similarity_of(d)});
      return out;
    }
    // Too few passed the filter: widen the beam, or compute them all once
    // that costs less.
    beam = std::min<size_t>(total, beam * 4);
    if (static_cast<double>(candidates) <= static_cast<double>(beam) * kHnswM * 1.5) {
      stats->strategy = "exact scan of " + std::to_string(candidates) +
                        " vectors (after an HNSW beam came back short)";
      return exact(query, k, within, exclude, stats);
    }
  }
}

size_t VectorSlot::memory_bytes() const {
  size_t n = sizeof(*this) + internal_of_.capacity() * 4 + present_.getSizeInBytes();
  const auto* h = graph_->hnsw.get();
  if (h == nullptr) return n;
  n += h->max_elements_ * (h->size_data_per_element_ + sizeof(void*) + sizeof(int));
  for (size_t i = 0; i < h->cur_element_count; ++i) {
    n += static_cast<size_t>(h->element_levels_[i]) * h->size_links_per_element_;
  }
  n += h->label_lookup_.size() * 32;
  return n;
}

std::string VectorSlot::file_stem(const std::string& dir, EntityKind kind) const {
  return dir + "/" + kind_word(kind) + "." + def_.name;
}

Status VectorSlot::save(const std::string& dir, EntityKind kind) {
  const std::string stem = file_stem(dir, kind);
  const std::string graph_path = stem + ".hnsw", header_path = stem + ".header";
  if (!graph_->hnsw) {
    // Nothing stored: no files (open() finds none and starts empty).
    std::remove(graph_path.c_str());
    std::remove(header_path.c_str());
    return sync_dir(dir);
  }
  const std::string tmp = graph_path + ".tmp";
  try {
    graph_->hnsw->saveIndex(tmp);
  } catch (const std::exception& e) {
    return Status::IoError(Subsystem::kStorage, "saving the HNSW graph of " + def_.name + " to " +
                                                    tmp + ": " + e.what());
  }
  {
    TIDAL_ASSIGN_OR_RETURN(FileHandle written, FileHandle::open(tmp, O_RDONLY));
    TIDAL_RETURN_IF_ERROR(written.sync_data());
  }
  uint64_t size = 0;
  TIDAL_ASSIGN_OR_RETURN(uint64_t checksum, file_checksum(tmp, &size));
  if (std::rename(tmp.c_str(), graph_path.c_str()) != 0) {
    return Status::IoErrorFromErrno(Subsystem::kStorage, "rename " + tmp, errno);
  }
  std::string header(kHeaderMagic);
  put_fixed32_le(&header, kHeaderVersion);
  put_fixed32_le(&header, def_.vector_dim);
  header.push_back(static_cast<char>(def_.metric));
  put_fixed32_le(&header, static_cast<uint32_t>(kHnswM));
  put_fixed64_le(&header, size);
  put_fixed64_le(&header, checksum);
  TIDAL_RETURN_IF_ERROR(write_file_atomic(header_path, header));
  changes_ = 0;
  return Status::Ok();
}

bool VectorSlot::load(const std::string& dir, EntityKind kind, std::string* why) {
  const std::string stem = file_stem(dir, kind);
  const std::string graph_path = stem + ".hnsw", header_path = stem + ".header";
  Result<std::string> header = read_file(header_path);
  if (!header.ok()) {
    *why = "no saved graph";
    return false;
  }
  ByteReader r(*header);
  std::string_view magic;
  uint32_t version = 0, dim = 0, m = 0;
  uint8_t metric = 0;
  uint64_t size = 0, checksum = 0;
  if (!r.read_bytes(kHeaderMagic.size(), &magic) || magic != kHeaderMagic ||
      !r.read_fixed32_le(&version) || version != kHeaderVersion || !r.read_fixed32_le(&dim) ||
      !r.read_u8(&metric) || !r.read_fixed32_le(&m) || !r.read_fixed64_le(&size) ||
      !r.read_fixed64_le(&checksum)) {
    *why = "unreadable header " + header_path;
    return false;
  }
  if (dim != def_.vector_dim || metric != static_cast<uint8_t>(def_.metric) || m != kHnswM) {
    *why = "saved graph has another shape (dimension, metric or M)";
    return false;
  }
  uint64_t actual_size = 0;
  Result<uint64_t> actual = file_checksum(graph_path, &actual_size);
  if (!actual.ok() || actual_size != size || *actual != checksum) {
    *why = "saved graph " + graph_path + " does not match its checksum";
    return false;
  }
  try {
    auto h = std::make_unique<hnswlib::HierarchicalNSW<float>>(graph_->space.get());
    h->loadIndex(graph_path, graph_->space.get());
    graph_->hnsw = std::move(h);
    graph_->hnsw->ef_ = 1;
  } catch (const std::exception& e) {
    *why = std::string("hnswlib could not load ") + graph_path + ": " + e.what();
    graph_->hnsw.reset();
    return false;
  }
  hnswlib::HierarchicalNSW<float>& h = *graph_->hnsw;
  internal_of_.clear();
  present_ = Bitmap();
  for (size_t element = 0; element < h.cur_element_count; ++element) {
    // Graphs saved before tidalDB stopped using hnswlib's deletion mark may
    // carry it: the element becomes an ordinary dead one (see remove()).
    if (h.isMarkedDeleted(static_cast<uint32_t>(element))) {
      h.unmarkDeletedInternal(static_cast<uint32_t>(element));
      continue;
    }
    const auto id = static_cast<uint32_t>(h.getExternalLabel(element));
    if (id >= internal_of_.size()) internal_of_.resize(id + 1, kNoElement);
    internal_of_[id] = static_cast<uint32_t>(element);
    present_.add(id);
  }
  changes_ = 0;
  return true;
}

// ---------------------------------------------------------------------------
// VectorIndex

VectorIndex::VectorIndex(const Schema& schema, const entities::EntityStore* entities,
                         std::string dir)
    : entities_(entities), dir_(std::move(dir)) {
  add_slots(schema);
}

void VectorIndex::add_slots(const Schema& schema) {
  for (EntityKind kind : kEntityKinds) {
    auto& ss = slots_[static_cast<size_t>(kind)];
    for (const AttributeDefinition& a : schema.attributes(kind)) {
      if (a.type != AttributeType::kVector) continue;
      const uint16_t slot = entities::AttributeCatalog::slot_of(a);
      bool known = false;
      for (const auto& s : ss) known = known || s->attribute_slot() == slot;
      if (!known) ss.push_back(std::make_unique<VectorSlot>(a, slot));
    }
  }
}

VectorIndex::~VectorIndex() = default;

const VectorSlot* VectorIndex::slot(EntityKind kind, std::string_view name) const {
  for (const auto& s : slots(kind)) {
    if (s->def().name == name) return s.get();
  }
  return nullptr;
}

Status VectorIndex::apply(const apply::AppliedRecord& record) {
  if (record.type == wal::RecordType::kSchemaChange) {
    // New attributes hold no vectors yet: an empty slot each (no graph, no
    // files until one is written).
    std::unique_lock<std::shared_mutex> lk(save_mu_);
    add_slots(*record.schema);
    return Status::Ok();
  }
  const apply::EntityRecord* e = record.entity;
  if (e == nullptr) return Status::Ok();
  auto& ss = slots_[static_cast<size_t>(e->kind)];
  if (ss.empty()) return Status::Ok();
  const uint32_t id = record.entity_index;
  std::unique_lock<std::shared_mutex> lk(save_mu_);
  if (record.type == wal::RecordType::kEntityDelete) {
    for (auto& s : ss) TIDAL_RETURN_IF_ERROR(s->remove(id));
    return Status::Ok();
  }
  if (record.type != wal::RecordType::kEntityUpsert &&
      record.type != wal::RecordType::kEntityPatch) {
    return Status::Ok();
  }
  // A patch of an entity deleted after it was validated changes nothing
  // (the entity store, applied after this index, skips it too).
  if (record.type == wal::RecordType::kEntityPatch && !record.was_live) {
    return Status::Ok();
  }
  std::vector<bool> given(ss.size(), false);
  std::vector<float> v;
  entities::AttributeReader r(entities_->catalog(e->kind), e->list);
  uint16_t attribute;
  entities::ValueView value;
  while (r.next(&attribute, &value)) {
    for (size_t i = 0; i < ss.size(); ++i) {
      if (ss[i]->attribute_slot() != attribute) continue;
      given[i] = true;
      ss[i]->to_stored(value.raw, &v);
      TIDAL_RETURN_IF_ERROR(ss[i]->put(id, v));
    }
  }
  for (size_t i = 0; i < ss.size(); ++i) {
    if (given[i]) continue;
    // An upsert replaces every attribute; a patch removes only those listed.
    const bool removed =
        record.type == wal::RecordType::kEntityUpsert ||
        std::binary_search(e->removed.begin(), e->removed.end(), ss[i]->attribute_slot());
    if (removed) TIDAL_RETURN_IF_ERROR(ss[i]->remove(id));
  }
  return Status::Ok();
}

Status VectorIndex::after_checkpoint() {
  if (dir_.empty()) return Status::Ok();
  std::shared_lock<std::shared_mutex> lk(save_mu_);
  bool made_dir = false;
  for (EntityKind kind : kEntityKinds) {
    for (auto& s : slots_[static_cast<size_t>(kind)]) {
      if (s->changes_ == 0) continue;
      if (!made_dir) {
        TIDAL_RETURN_IF_ERROR(create_dirs(dir_));
        made_dir = true;
      }
      // Saving reads the graph only; apply() (which writes it) is held off
      // by the lock.
      TIDAL_RETURN_IF_ERROR(s->save(dir_, kind));
    }
  }
  return Status::Ok();
}

Status VectorIndex::open() {
  open_report_.clear();
  for (EntityKind kind : kEntityKinds) {
    auto& ss = slots_[static_cast<size_t>(kind)];
    if (ss.empty()) continue;
    // A slot whose saved graph loads is reconciled with the entities as they
    // are read (put() skips an unchanged vector); the others collect every
    // live entity's vector and are rebuilt from them.
    std::vector<std::string> why(ss.size(), "no data folder");
    std::vector<bool> loaded(ss.size(), false);
    for (size_t i = 0; i < ss.size(); ++i) {
      loaded[i] = !dir_.empty() && ss[i]->load(dir_, kind, &why[i]);
    }
    std::vector<Bitmap> seen(ss.size());
    std::vector<std::vector<std::pair<uint32_t, std::vector<float>>>> to_build(ss.size());
    std::vector<float> v;
    for (uint32_t id : entities_->live_set(kind)) {
      entities::AttributeReader r(entities_->catalog(kind), entities_->attributes(kind, id));
      uint16_t attribute;
      entities::ValueView value;
      while (r.next(&attribute, &value)) {
        for (size_t i = 0; i < ss.size(); ++i) {
          if (ss[i]->attribute_slot() != attribute) continue;
          ss[i]->to_stored(value.raw, &v);
          if (loaded[i]) {
            seen[i].add(id);
            TIDAL_RETURN_IF_ERROR(ss[i]->put(id, v));
          } else {
            to_build[i].emplace_back(id, v);
          }
        }
      }
    }
    for (size_t i = 0; i < ss.size(); ++i) {
      VectorSlot& s = *ss[i];
      const std::string name = kind_word(kind) + "." + s.def().name;
      if (!loaded[i]) {
        TIDAL_RETURN_IF_ERROR(s.rebuild(to_build[i]));
        open_report_ +=
            name + ": rebuilt " + std::to_string(s.size()) + " vectors (" + why[i] + "); ";
        continue;
      }
      const uint64_t updated = s.changes_;
      Bitmap gone = s.present_ - seen[i];
      for (uint32_t id : gone) TIDAL_RETURN_IF_ERROR(s.remove(id));
      open_report_ += name + ": loaded " + std::to_string(s.size()) + " vectors (" +
                      std::to_string(updated) + " updated, " + std::to_string(gone.cardinality()) +
                      " removed to match the entities); ";
    }
  }
  return Status::Ok();
}

size_t VectorIndex::memory_bytes() const {
  size_t n = sizeof(*this);
  for (const auto& kind : slots_) {
    for (const auto& s : kind) n += s->memory_bytes();
  }
  return n;
}

}  // namespace tidal::vectors
