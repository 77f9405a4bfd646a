#pragma once

namespace cpuprof::output {

/// The "schema_version" of the json format. Raise it when a key is renamed, removed or changes
/// meaning; adding keys does not change it.
inline constexpr int kJsonSchemaVersion = 1;

} // namespace cpuprof::output
