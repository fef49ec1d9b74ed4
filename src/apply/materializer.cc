#include "apply/materializer.h"

namespace tidal::apply {

Status MaterializerRegistry::apply(const AppliedRecord& record) {
  for (auto& m : materializers_) {
    Status s = m->apply(record);
    if (!s.ok()) return s.with_context("materializer " + std::string(m->name()));
  }
  return Status::Ok();
}

Status MaterializerRegistry::checkpoint(WriteBatch* batch) {
  for (auto& m : materializers_) {
    Status s = m->checkpoint(batch);
    if (!s.ok()) return s.with_context("checkpoint of " + std::string(m->name()));
  }
  return Status::Ok();
}

Status MaterializerRegistry::after_checkpoint() {
  for (auto& m : materializers_) {
    Status s = m->after_checkpoint();
    if (!s.ok()) return s.with_context("checkpoint of " + std::string(m->name()));
  }
  return Status::Ok();
}

void MaterializerRegistry::end_checkpoint(bool durable) {
  for (auto& m : materializers_) m->end_checkpoint(durable);
}

Status MaterializerRegistry::restore(StorageEngine& engine) {
  for (auto& m : materializers_) {
    Status s = m->restore(engine);
    if (!s.ok()) return s.with_context("restoring " + std::string(m->name()));
  }
  return Status::Ok();
}

}  // namespace tidal::apply
