import CKernels
import Foundation
import Testing

extension KernelTests {
    @Suite struct Dispatch {
        /// The dispatcher must agree with the kernel's own report of the CPU in /proc/cpuinfo.
        @Test func cpuFeaturesMatchProcCpuinfo() throws {
            #if arch(x86_64) && os(Linux)
            let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
            let avx2 = flags.contains("avx2") && flags.contains("fma")
            let avx512 = avx2 && ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
            let avx512vnni = avx512 && flags.contains("avx512_vnni")
            let avxvnni = avx2 && flags.contains("avx_vnni")
            let expected: Int32 = (avx2 ? 1 : 0) | (avx512 ? 2 : 0) | (avx512vnni ? 4 : 0) | (avxvnni ? 8 : 0)
            #expect(ck_cpu_features() == expected)
            #else
            #expect(ck_cpu_features() == 0)
            #endif
        }
    }
}
