/// dintsim's version: the one source for `dintsim --version`, `dintsim_version()` (C) and
/// `dintsim.__version__` (Python, read from the library at import).
public enum DintsimVersion {
    public static let string = "0.5.0"
}
