{
  # The N-1 mix kernel (src/mixer.c) as an N-API addon. Only node_api.h is
  # used, so one build runs on every Node with N-API 8 (Node >= 12.22).
  # Build: from the repository root, node-gyp rebuild --directory=native-mixer
  # (or npm run native:build). Output: build/Release/native_mixer.node.
  'targets': [
    {
      'target_name': 'native_mixer',
      'sources': [ 'src/mixer.c' ],
      'defines': [ 'NAPI_VERSION=8' ],
      # Baseline flags only (no -march): AVX2 is chosen at run time inside
      # mixer.c, so the binary is portable between x86_64 machines.
      'cflags': [ '-O3', '-std=gnu11', '-Wall', '-Wextra', '-Wno-unused-parameter' ],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '3',
        'GCC_C_LANGUAGE_STANDARD': 'gnu11',
        'WARNING_CFLAGS': [ '-Wall', '-Wextra', '-Wno-unused-parameter' ],
      },
      'msvs_settings': {
        'VCCLCompilerTool': { 'Optimization': 2 },
      },
    },
  ],
}
