#include "milter/auth_results.h"
#include "milter/pipeline.h"

namespace milter {

Outcome BasicPipeline::process(const Message& message, const Snapshot& snapshot) {
  Outcome o;
  o.header_edits = remove_forged_auth_results(message.headers, snapshot.settings.authserv_id);
  o.summary = "pipeline=basic removed-forged-ar=" + std::to_string(o.header_edits.size());
  return o;
}

}  // namespace milter
