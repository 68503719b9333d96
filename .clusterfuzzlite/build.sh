#!/bin/bash -eu
# ClusterFuzzLite uses the same contract as OSS-Fuzz: one build script.
exec "$SRC/sndtag-harness/oss-fuzz/build.sh"
