/* version.h - allocsim's version and the source revision it was built from.
 *
 * ALLOCSIM_VERSION (a compile definition, CMakeLists.txt) is the release
 * number; as_revision is `git describe --always --dirty` of the source tree
 * at build time, or "unknown" when the tree is not a git checkout. CMake
 * generates the definition (cmake/revision.cmake) on every build. Both go
 * into `allocsim --version` and summary.json.
 */
#ifndef AS_SIM_VERSION_H
#define AS_SIM_VERSION_H

extern const char as_revision[];

#endif /* AS_SIM_VERSION_H */
