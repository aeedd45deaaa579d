import { LightningElement, api } from "lwc";
import draftForComponent from "@salesforce/apex/DraftReplyService.draftForComponent";

export default class DraftReply extends LightningElement {
    @api customerName;
    reply;

    async handleDraft() {
        this.reply = await draftForComponent({ customerName: this.customerName });
    }
}
