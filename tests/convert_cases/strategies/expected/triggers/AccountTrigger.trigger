trigger AccountTrigger on Account (before insert) {}
