#!/bin/bash -eu
# ClusterFuzzLite runs this as $SRC/build.sh, like OSS-Fuzz; the sources
# are in $SRC/sndtag-harness (the Dockerfile copies them there).
exec "$SRC/sndtag-harness/oss-fuzz/build.sh"
