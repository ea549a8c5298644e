{
  # Built by scripts/build-torch.mjs, which finds libtorch and passes its directories in
  # TORCH_INCLUDE and TORCH_LIB; without them, Debian's libtorch-dev on x86-64.
  "variables": {
    "torch_include%": "<!(node -p \"process.env.TORCH_INCLUDE || '/usr/include'\")",
    "torch_lib%": "<!(node -p \"process.env.TORCH_LIB || '/usr/lib/x86_64-linux-gnu'\")"
  },
  "targets": [
    {
      "target_name": "torch_backend",
      "sources": ["addon.cc", "fused.cc", "stochastic_pool.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(torch_include)",
        "<(torch_include)/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      # libtorch's headers need exceptions and RTTI, which node-gyp switches off by default.
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-frtti", "-Wno-unused-parameter"],
      "conditions": [
        ["target_arch=='x64'", { "cflags_cc": ["-mavx2", "-mfma"] }]
      ],
      "libraries": [
        "-L<(torch_lib)",
        "-Wl,-rpath,<(torch_lib)",
        "-Wl,--no-as-needed",
        "-ltorch_cpu",
        "-lc10"
      ]
    }
  ]
}
