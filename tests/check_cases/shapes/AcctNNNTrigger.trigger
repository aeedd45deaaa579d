trigger AcctNNNTrigger on Account(before insert, before update, after insert) {
    AcctNNNTriggerHandler.handle(Trigger.operationType, Trigger.new, Trigger.oldMap);
}
