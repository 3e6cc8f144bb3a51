# Conan 2 recipe for building stenotype outside Debian.
#
# Not exercised in CI (this project's machines reach only Debian's archive):
# it pins what the code needs and is kept minimal. On Debian use
# scripts/setup.sh instead.
from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout


class StenotypeConan(ConanFile):
    name = "stenotype"
    version = "0.1.0"
    license = "Apache-2.0"
    settings = "os", "compiler", "build_type", "arch"
    exports_sources = "../CMakeLists.txt", "../cmake/*", "../include/*", "../io/*", \
        "../actors/*", "../index/*", "../main/*"

    def requirements(self):
        self.requires("caf/0.17.6")       # the code uses the 0.17 API (atoms, no flows)
        self.requires("libaio/0.3.113")
        self.requires("libpcap/1.10.4")
        self.requires("cli11/2.1.2")
        self.requires("rocksdb/7.8.3")
        self.requires("libseccomp/2.5.4")
        self.requires("prometheus-cpp/1.0.1")

    def build_requirements(self):
        self.test_requires("catch2/2.13.10")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        tc = CMakeToolchain(self)
        tc.variables["STENOTYPE_BUILD_TESTS"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
