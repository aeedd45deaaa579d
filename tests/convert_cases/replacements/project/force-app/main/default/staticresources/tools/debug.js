const DEBUG = true;
