// The three functions Jazzer.js 4.0.0's prebuilt libFuzzer addon takes from a newer C and
// C++ runtime than Debian 12 ships (glibc 2.38, libstdc++ GLIBCXX_3.4.32); see
// fuzz/jazzerCompat.mjs. Each does what the newer runtime's version does for the
// inputs libFuzzer gives it.
#include <cstdlib>
#include <ios>

// glibc 2.38 (C23): strtol/strtoul that also read a 0b prefix when base is 0 or 2.
// libFuzzer parses only its own decimal flags (-runs=, -max_len=, ...) with them.
extern "C" long __isoc23_strtol(const char *text, char **end, int base) { return std::strtol(text, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char *text, char **end, int base) { return std::strtoul(text, end, base); }

// GCC 13: called by every translation unit that includes <iostream>, so that the
// standard streams exist before it uses them (older runtimes do this with one static
// ios_base::Init per translation unit, which this one reproduces).
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}  // namespace std
