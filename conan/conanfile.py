# Conan 2 recipe for building stenotype outside Debian.
#
#   conan create conan/ --build=missing
#
# NOT EXERCISED: this project's machines reach only Debian's package archive,
# not ConanCenter, so this recipe has never been run. It pins what the code
# needs (CAF 0.17: the code uses the 0.17 API) and is kept minimal. On Debian
# use scripts/setup.sh instead. See docs/OPERATING_AND_EMBEDDING.md.
import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy
from conan.tools.gnu import PkgConfigDeps


class StenotypeConan(ConanFile):
    name = "stenotype"
    version = "0.1.0"
    license = "Apache-2.0"
    description = "Full packet capture to disk, indexed and queryable (CAF pipeline)"
    settings = "os", "compiler", "build_type", "arch"

    def export_sources(self):
        # The recipe lives in conan/; the sources are one level up.
        top = os.path.join(self.recipe_folder, "..")
        for pattern in ("CMakeLists.txt", "cmake/*", "include/*", "io/*", "index/*", "store/*", "query/*",
                        "actors/*", "main/*", "docs/man/*", "docs/examples/*",
                        "scripts/systemd/*"):
            copy(self, pattern, src=top, dst=self.export_sources_folder)

    def requirements(self):
        self.requires("caf/0.17.6")
        self.requires("libaio/0.3.113")
        self.requires("libpcap/1.10.4")
        self.requires("cli11/2.1.2")
        self.requires("rocksdb/7.8.3")
        self.requires("leveldb/1.23")  # stenographer-format indexes
        self.requires("libseccomp/2.5.4")
        self.requires("prometheus-cpp/1.0.1")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        PkgConfigDeps(self).generate()  # libpcap and libseccomp are found with pkg-config
        tc = CMakeToolchain(self)
        tc.variables["STENOTYPE_BUILD_TESTS"] = False
        tc.variables["STENOTYPE_BUILD_BENCH"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "stenotype")
        self.cpp_info.set_property("cmake_target_name", "stenotype::stenotype")
        self.cpp_info.libs = ["stenotype_core"]
