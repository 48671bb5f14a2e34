import ArgumentParser
import Foundation

/// Prints one clear line to stderr and exits non-zero; used for every user-facing failure.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("moeseg: error: \(message)\n".utf8))
    return ExitCode.failure
}

/// Runs `body`, turning any thrown error into one line and a non-zero exit.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        throw fail("\(error)")
    }
}
