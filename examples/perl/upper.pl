# riff's check for every invoker: hello -> HELLO.
sub handle { my ($text) = @_; return uc $text; }
1;
