#!/bin/sh
# A command function: riff starts this script for each message, with the payload on stdin; what
# it prints is the reply. stderr goes to `riff logs -n wordcount`; a non-zero exit is an error.
wc -w | tr -d ' \n'
