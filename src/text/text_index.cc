#include "text/text_index.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "entities/entity_codec.h"

namespace tidal::text {

TextIndex::TextIndex(const Schema& schema, const entities::EntityStore* entities)
    : entities_(entities) {
  add_fields(schema);
}

void TextIndex::add_fields(const Schema& schema) {
  for (EntityKind kind : kEntityKinds) {
    auto& fields = fields_[static_cast<size_t>(kind)];
    for (const AttributeDefinition& a : schema.attributes(kind)) {
      if (a.type != AttributeType::kText) continue;
      const uint16_t slot = entities::AttributeCatalog::slot_of(a);
      bool known = false;
      for (const auto& f : fields) known = known || f->slot == slot;
      if (known) continue;
      auto f = std::make_unique<TextField>();
      f->def = a;
      f->slot = slot;
      // The schema validated the options, so create() cannot fail here; if
      // it somehow does, index without stemming rather than not at all.
      Result<std::unique_ptr<Analyzer>> an = Analyzer::create(
          AnalyzerOptions{.stemmer = a.text.stemmer, .stop_words = a.text.stop_words});
      f->analyzer = an.ok() ? std::move(an).value() : Analyzer::create({}).value();
      fields.push_back(std::move(f));
    }
  }
}

const TextField* TextIndex::field(EntityKind kind, std::string_view name) const {
  for (const auto& f : fields(kind)) {
    if (f->def.name == name) return f.get();
  }
  return nullptr;
}

void TextIndex::texts_in(EntityKind kind, std::string_view list,
                         std::vector<std::string_view>* texts, std::vector<bool>* found) const {
  const auto& fs = fields(kind);
  texts->assign(fs.size(), {});
  found->assign(fs.size(), false);
  if (list.empty()) return;
  entities::AttributeReader r(entities_->catalog(kind), list);
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    for (size_t i = 0; i < fs.size(); ++i) {
      if (fs[i]->slot == slot) {
        (*texts)[i] = v.str;
        (*found)[i] = true;
      }
    }
  }
}

std::string_view TextIndex::text_of(EntityKind kind, const TextField& f, uint32_t doc) const {
  entities::AttributeReader r(entities_->catalog(kind), entities_->attributes(kind, doc));
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    if (slot == f.slot) return v.str;
  }
  return {};
}

void TextIndex::reindex(EntityKind, TextField& f, uint32_t doc, std::string_view old_text,
                        bool had_old, std::string_view new_text, bool has_new) {
  if (had_old == has_new && (!had_old || old_text == new_text)) return;  // unchanged
  if (had_old) {
    f.analyzer->analyze(old_text, &tokens_);
    make_bag(tokens_, &bag_);
    f.index.remove(doc, bag_);
  }
  if (has_new) {
    f.analyzer->analyze(new_text, &tokens_);
    make_bag(tokens_, &bag_);
    f.index.add(doc, bag_);
  }
}

Status TextIndex::apply(const apply::AppliedRecord& record) {
  if (record.type == wal::RecordType::kSchemaChange) {
    add_fields(*record.schema);  // new attributes: no entity has text in them yet
    return Status::Ok();
  }
  const apply::EntityRecord* e = record.entity;
  if (e == nullptr) return Status::Ok();
  auto& fs = fields_[static_cast<size_t>(e->kind)];
  if (fs.empty()) return Status::Ok();
  const uint32_t doc = record.entity_index;
  const bool live = record.was_live;
  std::vector<std::string_view> old_texts, new_texts;
  std::vector<bool> had, has;
  texts_in(e->kind, live ? record.previous : std::string_view(), &old_texts, &had);
  switch (record.type) {
    case wal::RecordType::kEntityUpsert: texts_in(e->kind, e->list, &new_texts, &has); break;
    case wal::RecordType::kEntityPatch: {
      // A patch of an entity deleted after it was validated changes nothing
      // (the entity store skips it too).
      if (!live) return Status::Ok();
      texts_in(e->kind, e->list, &new_texts, &has);
      for (size_t i = 0; i < fs.size(); ++i) {
        if (has[i]) continue;
        const bool removed = std::binary_search(e->removed.begin(), e->removed.end(), fs[i]->slot);
        if (!removed) {  // untouched: keep the old value
          new_texts[i] = old_texts[i];
          has[i] = had[i];
        }
      }
      break;
    }
    case wal::RecordType::kEntityDelete:
      new_texts.assign(fs.size(), {});
      has.assign(fs.size(), false);
      break;
    default: return Status::Ok();
  }
  for (size_t i = 0; i < fs.size(); ++i) {
    reindex(e->kind, *fs[i], doc, old_texts[i], had[i], new_texts[i], has[i]);
  }
  return Status::Ok();
}

namespace {

// Indexes `texts` (ascending by document) into `f`. Analysis costs more
// than adding a bag to the index, so with more than one core and enough
// documents, `cores` threads analyze batches of documents into bags while
// this one adds them, in document order (the dictionary and posting lists
// have one writer); otherwise this thread does both.
void build_field(TextField& f, const std::vector<std::pair<uint32_t, std::string_view>>& texts) {
  constexpr size_t kBatch = 256;
  const size_t batches = (texts.size() + kBatch - 1) / kBatch;
  auto analyze_batch = [&](size_t b, std::vector<TermBag>* bags, std::vector<Token>* tokens) {
    const size_t from = b * kBatch, to = std::min(texts.size(), from + kBatch);
    bags->resize(to - from);
    for (size_t i = from; i < to; ++i) {
      f.analyzer->analyze(texts[i].second, tokens);
      make_bag(*tokens, &(*bags)[i - from]);
    }
  };
  auto add_batch = [&](size_t b, const std::vector<TermBag>& bags) {
    for (size_t i = 0; i < bags.size(); ++i) f.index.add(texts[b * kBatch + i].first, bags[i]);
  };
  const size_t producers = std::thread::hardware_concurrency();
  if (producers < 2 || batches < 16) {
    std::vector<TermBag> bags;
    std::vector<Token> tokens;
    for (size_t b = 0; b < batches; ++b) {
      analyze_batch(b, &bags, &tokens);
      add_batch(b, bags);
    }
    return;
  }
  const size_t ring_size = 4 * producers;  // batches in flight
  std::vector<std::vector<TermBag>> ring(ring_size);
  std::vector<size_t> ready(ring_size, 0);  // ready[b % ring_size] == b + 1: batch b is there
  std::mutex mu;
  std::condition_variable cv;
  size_t consumed = 0;
  std::vector<std::thread> workers;
  for (size_t p = 0; p < producers; ++p) {
    workers.emplace_back([&, p] {
      std::vector<Token> tokens;
      for (size_t b = p; b < batches; b += producers) {
        {
          std::unique_lock<std::mutex> lk(mu);
          cv.wait(lk, [&] { return b < consumed + ring_size; });
        }
        analyze_batch(b, &ring[b % ring_size], &tokens);
        std::lock_guard<std::mutex> lk(mu);
        ready[b % ring_size] = b + 1;
        cv.notify_all();
      }
    });
  }
  for (size_t b = 0; b < batches; ++b) {
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return ready[b % ring_size] == b + 1; });
    }
    add_batch(b, ring[b % ring_size]);
    std::lock_guard<std::mutex> lk(mu);
    consumed = b + 1;
    cv.notify_all();
  }
  for (std::thread& w : workers) w.join();
}

}  // namespace

Status TextIndex::rebuild() {
  for (EntityKind kind : kEntityKinds) {
    auto& fs = fields_[static_cast<size_t>(kind)];
    if (fs.empty()) continue;
    // Each field's texts, pointing into the entity store (unchanged while
    // the database opens).
    std::vector<std::vector<std::pair<uint32_t, std::string_view>>> texts(fs.size());
    std::vector<std::string_view> values;
    std::vector<bool> found;
    for (uint32_t doc : entities_->live_set(kind)) {
      texts_in(kind, entities_->attributes(kind, doc), &values, &found);
      for (size_t i = 0; i < fs.size(); ++i) {
        if (found[i]) texts[i].emplace_back(doc, values[i]);
      }
    }
    for (size_t i = 0; i < fs.size(); ++i) build_field(*fs[i], texts[i]);
  }
  return Status::Ok();
}

size_t TextIndex::memory_bytes() const {
  size_t n = sizeof(*this);
  for (const auto& kind : fields_) {
    for (const auto& f : kind) n += f->index.memory_bytes();
  }
  return n;
}

}  // namespace tidal::text
