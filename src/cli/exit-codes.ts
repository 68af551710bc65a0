// Exit statuses of the megalift CLI (sysexits-style: 2 for bad usage, as getopt tools do).
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
